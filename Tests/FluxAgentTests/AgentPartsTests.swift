import FluxAPI
import FluxAgent
import Testing

/// The small pure parts: backoff, output tail, dedupe window, outbox.
@Suite struct AgentPartsTests {
    @Test func backoffDoublesWithinJitterAndCaps() {
        var backoff = ReconnectBackoff(minimum: .milliseconds(100), maximum: .seconds(5), stableSession: .seconds(10))
        var random = SystemRandomNumberGenerator()
        var ceiling = Duration.milliseconds(100)
        for _ in 0..<12 {
            let delay = backoff.nextDelay(sessionLasted: nil, using: &random)
            #expect(delay <= ceiling && delay >= ceiling / 2)
            ceiling = min(ceiling * 2, .seconds(5))
        }
        #expect(backoff.nextDelay(sessionLasted: .seconds(1), using: &random) >= .milliseconds(2500))  // short session
        #expect(backoff.nextDelay(sessionLasted: .seconds(30), using: &random) <= .milliseconds(100))  // lasted: reset
        _ = backoff.nextDelay(sessionLasted: nil, using: &random)
        backoff.reset()
        #expect(backoff.nextDelay(sessionLasted: nil, using: &random) <= .milliseconds(100))
    }

    @Test func outputTailKeepsTheNewestBytes() {
        var tail = OutputTail(limit: 8)
        tail.append("hello ")
        tail.append("world!")
        #expect(tail.text == "o world!")
        #expect(tail.totalBytes == 12)
        tail.append(String(repeating: "x", count: 100) + "END")
        #expect(tail.text == "xxxxxEND")
        var nothing = OutputTail(limit: 0)
        nothing.append("anything")
        #expect(nothing.text.isEmpty)
    }

    @Test func outputTailDropsACharacterCutInHalf() {
        var tail = OutputTail(limit: 4)
        tail.append("aé€")  // 1 + 2 + 3 bytes; the last 4 bytes start inside "é"
        #expect(tail.text == "€")
    }

    @Test func seenAttemptsForgetsOnlyTheOldest() {
        var seen = SeenAttempts(limit: 3)
        for index in 1...5 { seen.insert(.init(taskId: "t\(index)", attempt: 1)) }
        #expect(seen.count == 3)
        #expect(!seen.contains(.init(taskId: "t1", attempt: 1)) && !seen.contains(.init(taskId: "t2", attempt: 1)))
        #expect(seen.contains(.init(taskId: "t5", attempt: 1)))
        #expect(seen.insert(.init(taskId: "t5", attempt: 1)) == false)
    }

    @Test func outboxKeepsFirstProducedOrder() {
        var outbox = Outbox()
        let a = AgentMessage.TaskAttempt(taskId: "a", attempt: 1)
        let b = AgentMessage.TaskAttempt(taskId: "b", attempt: 1)
        outbox.put(.rejected(.init(taskId: "b", attempt: 1, reason: "x")), for: b)
        outbox.put(.rejected(.init(taskId: "a", attempt: 1, reason: "y")), for: a)
        #expect(outbox.pending.map(\.type) == ["rejected", "rejected"])
        #expect(outbox.pending.first == .rejected(.init(taskId: "b", attempt: 1, reason: "x")))
        #expect(outbox.acknowledge(b) && !outbox.acknowledge(b))
        #expect(outbox.count == 1)
    }

    @Test func framesRoundTripAsJSONWithAType() throws {
        let text = try AgentFrameCodec.encode(.ping(.init(nonce: 5)))
        #expect(text == #"{"nonce":5,"type":"ping"}"#)
        #expect(try AgentFrameCodec.decode(text) == .ping(.init(nonce: 5)))
    }
}
