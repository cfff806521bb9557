import FluxAPI
import FluxTesting
import Foundation
import Testing

/// Backpressure at the door (issue 16, direction 8): once a shard's waiting tasks would take
/// longer than `--max-backlog-ms` to drain, the tenants at or over their share of them are
/// refused at submit (429 `backlog`, nothing written) — by the router and the shard alike —
/// while a tenant within its share is admitted, and the refusal lifts as the backlog drains.
@Suite(.serialized) struct BackpressureTests {
    @Test func theDoorRefusesTheTenantWhoseBacklogItIsAndAdmitsTheQuietOne() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"], shardArguments: ["--max-backlog-ms", "1000"])
        defer { cluster.stopAll() }
        let (floodToken, floodAgent) = try await cluster.createTenant("flood")
        let (quietToken, quietAgent) = try await cluster.createTenant("quiet")
        // One slow slot for the flood: its tasks drain at about 4 a second.
        try await cluster.startAgent(tenant: "flood", token: floodToken, agentToken: floodAgent, node: "slow", capacity: 1)
        try await cluster.startAgent(tenant: "quiet", token: quietToken, agentToken: quietAgent, node: "fast")
        let slow = TaskSubmission(command: ["sleep", "0.25"], retry: RetrySpec(maxAttempts: 1))
        // A batch of 40 in one call: about 10 s of backlog at once, well over the 1 s bound.
        let first = try await cluster.request("POST", "/v1/tenants/flood/tasks:batch", token: floodToken, json: TaskBatch(tasks: Array(repeating: slow, count: 40)))
        #expect(first.status == 202, "\(first.text)")
        var accepted = try JSONDecoder().decode(TaskBatchAccepted.self, from: first.body).tasks.map(\.id)
        // Within a heartbeat or two the router refuses the flood, with a Retry-After.
        var refusal: TestHTTPResponse?
        try await cluster.eventually(timeout: .seconds(20), "the flood refused for its backlog") {
            let response = try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: slow)
            if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id { accepted.append(id) }
            refusal = response
            return response.status == 429
        }
        #expect(refusal?.errorCode == "backlog", "\(refusal?.text ?? "")")
        #expect((refusal?.headers["retry-after"]).flatMap(Int.init).map { $0 >= 1 } == true, "\(refusal?.headers ?? [:])")
        // The shard's own door says the same, and a refused batch writes nothing either.
        let shard = try #require(cluster.shards["shard-a"])
        let direct = try await shard.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: slow)
        #expect(direct.status == 429 && direct.errorCode == "backlog", "\(direct.text)")
        let batch = try await cluster.request("POST", "/v1/tenants/flood/tasks:batch", token: floodToken, json: TaskBatch(tasks: [slow, slow]))
        #expect(batch.status == 429 && batch.errorCode == "backlog", "\(batch.text)")
        let listed = try JSONDecoder().decode(TaskPage.self, from: try await cluster.request("GET", "/v1/tenants/flood/tasks?limit=500", token: floodToken).body)
        #expect(Set(listed.tasks.map(\.id)) == Set(accepted), "a refused submission wrote a task")

        // The quiet tenant holds none of the backlog: admitted and done meanwhile.
        let quiet = try await cluster.submit(tenant: "quiet", token: quietToken, TaskSubmission(command: ["true"]))
        _ = try await cluster.waitForState(tenant: "quiet", token: quietToken, id: quiet, ["SUCCEEDED"], timeout: .seconds(10))
        #expect(try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: slow).status == 429, "still backlogged")

        // As the backlog drains the door opens again, and every accepted task completes.
        try await cluster.eventually(timeout: .seconds(30), "the flood admitted again") {
            let response = try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: TaskSubmission(command: ["true"]))
            if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id { accepted.append(id) }
            return response.status == 202
        }
        for id in accepted { _ = try await cluster.waitForState(tenant: "flood", token: floodToken, id: id, ["SUCCEEDED"], timeout: .seconds(30)) }
    }
}
