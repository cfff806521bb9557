import FluxAPI
import FluxTesting
import Foundation
import Logging
import Testing
import WSClient

/// Agents are untrusted: a node cannot finish an attempt it does not hold.
@Suite("Lying agents", .serialized)
struct LyingAgentTests {
    @Test func aResultFromANodeThatDoesNotHoldTheAttemptChangesNothing() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "echo real"), node: "edge-1"))
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])

        // A second, hand-written agent claims the task finished on its node.
        let hello = AgentMessage.hello(.init(
            tenant: "acme", node: "impostor", zone: "zone-a", rack: "rack-1", labels: [:], capacity: 1,
            version: "test", token: agentToken))
        let forged = AgentMessage.finished(.init(taskId: id, attempt: 1, exitCode: 0, outputTail: "forged", durationMs: 1))
        let acked = try await Self.sendAsAgent(url: cluster.agentURL, [hello, forged])
        #expect(acked, "the shard should still ack the forged result so the liar stops resending it")

        let task = try await cluster.task(tenant: "acme", token: token, id: id)
        #expect(task?.state == "RUNNING", "a forged result finished the task")
        gate.open()
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.result?.outputTail == "real\n")
        #expect(done.assignedNode == "edge-1")
    }

    @Test func anotherTenantsNodeOfTheSameNameCannotFinishATask() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let (_, evilAgentToken) = try await cluster.createTenant("evil")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "echo real"), node: "edge-1"))
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])

        // Tenant evil's agent, with evil's own valid token, names its node edge-1 too.
        let hello = AgentMessage.hello(.init(
            tenant: "evil", node: "edge-1", zone: "zone-a", rack: "rack-1", labels: [:], capacity: 1, version: "test",
            token: evilAgentToken))
        let started = AgentMessage.started(.init(taskId: id, attempt: 1))
        let forged = AgentMessage.finished(.init(taskId: id, attempt: 1, exitCode: 0, outputTail: "forged", durationMs: 1))
        let unknown = AgentMessage.finished(.init(taskId: "0000000000000aa", attempt: 1, exitCode: 0, outputTail: "x", durationMs: 1))
        #expect(try await Self.sendAsAgent(url: cluster.agentURL, [hello, started, forged, unknown]))

        #expect(try await cluster.task(tenant: "acme", token: token, id: id)?.state == "RUNNING", "another tenant's agent finished the task")
        gate.open()
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.result?.outputTail == "real\n")
        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_agent_frames_rejected_total", ["reason": "other_tenant"]) == 2)
        #expect(metrics.value("flux_agent_frames_rejected_total", ["reason": "unknown_task"]) == 1)
    }

    /// Connects, sends `messages` (after `welcome` for the frames following the hello), and
    /// returns whether an `ack` came back within a few seconds.
    static func sendAsAgent(url: String, _ messages: [AgentMessage]) async throws -> Bool {
        let result = AckBox()
        _ = try await WebSocketClient.connect(url: url, logger: Logger(label: "impostor")) { inbound, outbound, _ in
            try await outbound.write(.text(Self.json(messages[0])))
            var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            let deadline = ContinuousClock.now + .seconds(5)
            var sent = false
            while ContinuousClock.now < deadline, case .text(let text)? = try await frames.next() {
                guard let message = try? JSONDecoder().decode(AgentMessage.self, from: Data(text.utf8)) else { continue }
                if case .welcome = message, !sent {
                    for message in messages.dropFirst() { try await outbound.write(.text(Self.json(message))) }
                    sent = true
                }
                if case .ack = message {
                    result.set()
                    break
                }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return result.value
    }

    static func json(_ message: AgentMessage) -> String {
        String(decoding: (try? JSONEncoder().encode(message)) ?? Data(), as: UTF8.self)
    }
}

/// A flag set from inside the WebSocket closure.
final class AckBox: @unchecked Sendable {
    private let lock = NSLock()
    private var acked = false
    func set() { lock.withLock { acked = true } }
    var value: Bool { lock.withLock { acked } }
}
