import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// The whole task path on real processes: a shard, real agents, a real Redis (issue 4).
@Suite("Task path end to end", .serialized)
struct TaskPathTests {
    @Test func taskRunsOnARealAgentAndItsTimelineIsComplete() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "echo hello from $FLUX_NODE"]))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED")
        #expect(done.result?.exitCode == 0)
        #expect(done.result?.outputTail == "hello from edge-1\n")
        #expect(done.assignedNode == "edge-1")
        let timeline = try await cluster.timeline(tenant: "acme", token: token, id: id)
        #expect(timeline.map(\.to) == ["QUEUED", "ADMITTED", "DISPATCHED", "RUNNING", "SUCCEEDED"])
        #expect(timeline.dropFirst().allSatisfy { $0.shard == "shard-it" && $0.epoch >= 1 })
        #expect(timeline.last?.node == "edge-1")
        #expect(timeline.last?.attempt == 1)
        let nodes = try JSONDecoder().decode(NodeList.self, from: try await cluster.request("GET", "/v1/tenants/acme/nodes", token: token).body).nodes
        let node = try #require(nodes.first)
        #expect(nodes.count == 1 && node.node == "edge-1" && node.zone == "zone-a" && node.connected)
        #expect(node.observedFailureRate == 0 && !node.quarantined && node.score > 0.9)
    }

    @Test func failingCommandIsRetriedPerPolicyThenFails() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let retry = RetrySpec(maxAttempts: 3, backoff: "linear", baseDelayMs: 200, maxDelayMs: 1_000)
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "exit 3"], retry: retry))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["FAILED", "SUCCEEDED", "SUSPENDED"])
        #expect(done.state == "FAILED")
        #expect(done.attempt == 3)
        #expect(done.result?.exitCode == 3)
        let timeline = try await cluster.timeline(tenant: "acme", token: token, id: id)
        let retries = timeline.filter { $0.to == "RETRY_WAIT" }
        #expect(retries.count == 2)
        #expect(retries.allSatisfy { $0.reason == "non_zero_exit" })
        // Linear backoff: the second wait is about twice the first (jitter shortens by ≤ 10 %).
        let waits = zip(timeline, timeline.dropFirst()).filter { $0.0.to == "RETRY_WAIT" }.map { $0.1.atMs - $0.0.atMs }
        #expect(waits.count == 2)
        if waits.count == 2 {
            #expect(waits[0] >= 170 && waits[0] < 2_000)
            #expect(waits[1] >= 350 && waits[1] < 3_000)
        }
    }

    @Test func agentKilledMidTaskIsRetriedOnAnotherNode() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-2")
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "echo ran on $FLUX_NODE")))
        let running = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])
        let first = try #require(running.assignedNode)
        try #require(cluster.agent("acme", first)).kill()
        gate.open()
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED")
        #expect(done.assignedNode != first)
        #expect(done.attempt == 2)
        let timeline = try await cluster.timeline(tenant: "acme", token: token, id: id)
        #expect(timeline.contains { $0.reason == "node_lost" && $0.to == "RETRY_WAIT" })
    }

    @Test func cancelKillsTheRunningCommand() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let marker = cluster.directory.appendingPathComponent("survived").path
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "touch \(marker)")))
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])
        let response = try await cluster.request("POST", "/v1/tenants/acme/tasks/\(id)/cancel", token: token)
        #expect(response.status == 200)
        #expect(try await cluster.task(tenant: "acme", token: token, id: id)?.state == "CANCELLED")
        let again = try await cluster.request("POST", "/v1/tenants/acme/tasks/\(id)/cancel", token: token)
        #expect(again.status == 409)
        // A command still alive would pass the gate now and leave the marker.
        gate.open()
        try await Task.sleep(for: .seconds(2))
        #expect(!FileManager.default.fileExists(atPath: marker), "the cancelled command kept running")
    }

    @Test func silentAgentIsTimedOutByTheShard() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let agent = try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let retry = RetrySpec(maxAttempts: 1, backoff: "none", baseDelayMs: 0, maxDelayMs: 0)
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sleep", "30"], timeoutMs: 1_500, retry: retry))
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])
        // Freeze the agent: its session stays open but nothing is reported any more.
        kill(try #require(agent.pid), SIGSTOP)
        defer { if let pid = agent.pid { kill(pid, SIGCONT) } }
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["FAILED", "SUCCEEDED"], timeout: .seconds(15))
        #expect(done.state == "FAILED")
        #expect(done.reason == "timeout")
    }

    @Test func deadlineEndsATaskThatCannotBePlaced() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let submission = TaskSubmission(command: ["true"], deadlineAfterMs: 800, selector: ["zone": "nowhere"])
        let id = try await cluster.submit(tenant: "acme", token: token, submission)
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["DEADLINE_EXCEEDED"], timeout: .seconds(10))
        #expect(done.reason == "deadline")
    }
}
