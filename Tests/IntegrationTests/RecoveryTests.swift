import FluxAPI
import FluxTesting
import Foundation
import Testing

/// Recovery after failures stop: a quarantined node is released, a throttled zone runs at full
/// speed again. The shard runs with a short `--failure-fade-ms` so fading takes seconds, not
/// the production minute; the rules are the same.
@Suite("Recovery", .serialized)
struct RecoveryTests {
    @Test func quarantinedNodeIsReleasedAfterItRecoversAndGetsWorkAgain() async throws {
        let cluster = try await ShardHarness(extraArguments: ["--failure-fade-ms", "500"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(
            tenant: "acme", token: token, agentToken: agentToken, node: "liar", capacity: 1,
            extraArguments: ["--chaos-self-score", "1.0"])
        // Jobs fail until the marker exists: the node is broken, then repaired.
        let marker = cluster.directory.appendingPathComponent("repaired").path
        let once = RetrySpec(maxAttempts: 1, backoff: "none", baseDelayMs: 0, maxDelayMs: 0)
        var ids: [String] = []
        for _ in 0..<8 {
            ids.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["test", "-e", marker], retry: once)))
        }
        try await cluster.eventually(timeout: .seconds(30), "node quarantined") {
            try await cluster.nodeList(tenant: "acme", token: token).first?.quarantined == true
        }
        FileManager.default.createFile(atPath: marker, contents: nil)
        try await cluster.eventually(timeout: .seconds(30), "node released") {
            try await cluster.nodeList(tenant: "acme", token: token).first?.quarantined == false
        }
        var outcomes: [String] = []
        for id in ids {
            outcomes.append(try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"]).state)
        }
        let failed = outcomes.filter { $0 == "FAILED" }.count
        #expect(failed >= 1 && failed <= 6, "quarantine stopped the failures: \(outcomes)")
        #expect(outcomes.contains("SUCCEEDED"), "tasks that waited out the quarantine ran on the released node: \(outcomes)")
    }

    @Test func throttledZoneRecoversOnceItsFailuresStop() async throws {
        let cluster = try await ShardHarness(extraArguments: ["--failure-fade-ms", "1000"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "a-1", zone: "zone-a", capacity: 2)
        for index in 1...3 {
            try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "b-\(index)", zone: "zone-b", capacity: 2)
        }
        let marker = cluster.directory.appendingPathComponent("zone-b-repaired").path
        let command = ["sh", "-c", "case \"$FLUX_NODE\" in b-*) test -e \(marker) || exit 1;; esac"]
        let retry = RetrySpec(maxAttempts: 20, backoff: "linear", baseDelayMs: 50, maxDelayMs: 200)
        let batch = TaskBatch(tasks: Array(repeating: TaskSubmission(command: command, retry: retry), count: 40))
        let response = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, json: batch)
        try #require(response.status == 202, "\(response.text)")
        try await cluster.eventually(timeout: .seconds(30), "zone-b throttled") {
            try await cluster.debugSnapshot().domains.first { $0.domain == "zone:zone-b" }?.throttled == true
        }
        FileManager.default.createFile(atPath: marker, contents: nil)
        try await cluster.eventually(timeout: .seconds(40), "zone-b throttle lifted") {
            try await cluster.debugSnapshot().domains.first { $0.domain == "zone:zone-b" }?.throttled == false
        }
        // At full speed again: new work lands in zone-b and succeeds there.
        let zoneBTask = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: command, node: "b-2"))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: zoneBTask, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.assignedNode == "b-2")
    }
}
