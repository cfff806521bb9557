@testable import FluxLoad
import Foundation
import Testing

/// The load generator's bookkeeping: latencies must not depend on which of the three moments of
/// a task arrives first, and process figures must come from the real /proc.
@Suite("Load generator parts")
struct LoadPartsTests {
    @Test func aDispatchThatBeatsItsHTTPAnswerIsStillMeasuredFromTheSend() {
        let book = LatencyBook()
        let sent = ContinuousClock.now
        // Task a: answer first, then dispatch, then ack. Task b: dispatch before the answer.
        book.accepted(["a"], sentAt: sent)
        book.dispatched("a", at: sent + .milliseconds(5))
        book.dispatched("b", at: sent + .milliseconds(7))
        book.accepted(["b"], sentAt: sent)
        book.finished("a", at: sent + .milliseconds(9))
        book.finished("b", at: sent + .milliseconds(11))
        let (toDispatch, toFinish, errors) = book.summary()
        #expect(toDispatch.count == 2 && toFinish.count == 2)
        #expect(abs(toDispatch.p50 - 5) < 0.1 && abs(toDispatch.max - 7) < 0.1, "\(toDispatch)")
        #expect(abs(toFinish.max - 11) < 0.1, "\(toFinish)")
        #expect(errors.isEmpty)
        #expect(book.counts.accepted == 2 && book.counts.finished == 2)
    }

    /// On a loaded machine the shard's ack can come before the router's 202 (noisy-neighbour
    /// runs reported a few SUCCEEDED tasks "never dispatched"): the book kept neither latency.
    @Test func aResultThatBeatsItsHTTPAnswerIsMeasuredToo() {
        let book = LatencyBook()
        let sent = ContinuousClock.now
        book.dispatched("c", at: sent + .milliseconds(3))
        book.finished("c", at: sent + .milliseconds(4))
        book.accepted(["c"], tenant: "quiet", sentAt: sent)
        let (toDispatch, toFinish, _) = book.summary()
        #expect(toDispatch.count == 1 && abs(toDispatch.max - 3) < 0.1, "\(toDispatch)")
        #expect(toFinish.count == 1 && abs(toFinish.max - 4) < 0.1, "\(toFinish)")
        #expect(book.toDispatch(tenant: "quiet").count == 1)
        #expect(book.undispatched(limit: 10).isEmpty && book.unfinished(limit: 10).isEmpty)
    }

    @Test func failuresAreCountedByKind() {
        let book = LatencyBook()
        book.failed("http_503", count: 100)
        book.failed("transport")
        book.failed("http_503")
        #expect(book.summary().errors == ["http_503": 101, "transport": 1])
    }

    @Test func processFiguresComeFromProc() throws {
        let sample = try #require(ProcessSample.read(pid: ProcessInfo.processInfo.processIdentifier))
        #expect(sample.rssMiB > 1 && sample.peakRSSMiB >= sample.rssMiB)
        #expect(sample.cpuSeconds > 0)
        #expect(ProcessSample.read(pid: Int32.max) == nil)
    }
}
