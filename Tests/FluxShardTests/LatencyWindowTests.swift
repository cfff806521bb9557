import Testing

@testable import FluxShard

/// The sliding window whose p99 drives automatic DEGRADED (docs/metrics.md).
@Suite("Latency window")
struct LatencyWindowTests {
    @Test func noP99BeforeTheMinimumNumberOfSamples() {
        var window = LatencyWindow(capacity: 100, span: .seconds(10), minimumSamples: 20)
        for index in 0..<19 { window.record(.milliseconds(500), atMs: Int64(index)) }
        #expect(window.p99(nowMs: 19) == nil, "19 slow calls are not enough evidence")
        window.record(.milliseconds(500), atMs: 19)
        #expect(window.p99(nowMs: 19) == .milliseconds(500))
    }

    /// A Redis so slow that the probe gets only a few answers in seconds is slow: the fastest of
    /// them counts. Found when a Redis made slow for a test, on a loaded machine, answered one
    /// PING a second and the shard never degraded.
    @Test func fewAnswersOverSecondsReadAsTheFastestOfThem() {
        var window = LatencyWindow(capacity: 100, span: .seconds(10), minimumSamples: 20)
        window.record(.milliseconds(900), atMs: 1_000)
        window.record(.milliseconds(1_200), atMs: 2_200)
        #expect(window.p99(nowMs: 2_200) == nil, "1.2 s of few answers is not yet evidence")
        window.record(.milliseconds(700), atMs: 4_100)
        #expect(window.p99(nowMs: 4_100) == .milliseconds(700))
        // One slow answer among few that are fast stays fast.
        var mixed = LatencyWindow(capacity: 100, span: .seconds(10), minimumSamples: 20)
        mixed.record(.milliseconds(900), atMs: 0)
        mixed.record(.milliseconds(2), atMs: 4_000)
        #expect(mixed.p99(nowMs: 4_000) == .milliseconds(2))
    }

    @Test func p99IsTheNearestRankOfRecentSamples() {
        var window = LatencyWindow(capacity: 200, span: .seconds(10), minimumSamples: 20)
        for index in 0..<99 { window.record(.milliseconds(1), atMs: Int64(index)) }
        window.record(.milliseconds(300), atMs: 99)
        // 100 samples: the 99th by rank is still fast; one outlier does not flip the mode.
        #expect(window.p99(nowMs: 100) == .milliseconds(1))
        window.record(.milliseconds(200), atMs: 100)
        // 101 samples: rank ⌈99.99⌉ = 100, the second slowest.
        #expect(window.p99(nowMs: 101) == .milliseconds(200))
    }

    @Test func oldSamplesLeaveTheWindowByTimeAndByCapacity() {
        var window = LatencyWindow(capacity: 30, span: .seconds(10), minimumSamples: 20)
        for index in 0..<30 { window.record(.milliseconds(400), atMs: Int64(index)) }
        #expect(window.p99(nowMs: 30) == .milliseconds(400))
        #expect(window.p99(nowMs: 20_000) == nil, "samples older than the span do not count")
        for index in 0..<30 { window.record(.milliseconds(2), atMs: 20_000 + Int64(index)) }
        #expect(window.p99(nowMs: 20_030) == .milliseconds(2), "the ring overwrote every slow sample")
    }
}
