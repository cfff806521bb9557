import FluxAPI
import FluxRedis
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

    /// DEGRADED for a slow Redis closes the door to the tenant its work is of — P4–P10 answered
    /// 429 `degraded` by the router and the shard alike, P0–P3 and a quiet tenant still accepted —
    /// and every task it accepted is admitted. Before, the door stayed open while the accepted
    /// tasks were rejected `mode_degraded` (issue 16's batch flood: 5,565 tasks/s accepted,
    /// 1,302/s completed). Redis is made slow for real: a script busy for about 300 ms, run back
    /// to back on a connection of its own, on a server of this test's own.
    @Test(.disabled("""
        passes alone and beside 3-6 busy loops, but in the full suite on two loaded cores the shard \
        flips between DEGRADED and NORMAL: a probe with few answers reads the fastest of them, which \
        against back-to-back scripts is a fraction of their length (docs/performance.md). Reading the \
        median fixed this test but made other shards of the suite degrade under load (CI, 2026-12-02). \
        Run it alone: cluster/test --filter aSlowRedisClosesTheDoor
        """))
    func aSlowRedisClosesTheDoorAndEveryAcceptedTaskIsAdmitted() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        // The harness's shards degrade only past 2 s of Redis latency (tests share two cores);
        // this one at 150 ms, half of what the busy script makes. Leases of the production TTL
        // (10 s, not the harness's 3 s): on a loaded machine a renewal queued behind the busy
        // scripts came late, the slots went ownerless now and then, and the router wrote the
        // flood's submissions itself (as it does for an ownerless slot), past the shard's door.
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a"], leaseTTLMs: 10_000, shardArguments: ["--redis-latency-degrade-ms", "150"], redis: server.configuration)
        defer { cluster.stopAll() }
        let (floodToken, _) = try await cluster.createTenant("flood")
        let (quietToken, _) = try await cluster.createTenant("quiet")
        // No agents: what is accepted waits, ADMITTED, and all of it is the flood's.
        let low = TaskSubmission(command: ["true"], priority: 6)
        var accepted: [String] = []
        for _ in 0..<5 { accepted.append(try await cluster.submit(tenant: "flood", token: floodToken, low)) }

        let redis = server.configuration
        // Keeps going whatever fails (a connect timing out on a loaded machine must not quietly
        // leave Redis fast).
        let slowing = Task {
            while !Task.isCancelled {
                guard let connection = try? await RedisConnection.connect(configuration: redis) else {
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                }
                while !Task.isCancelled {
                    do {
                        _ = try await connection.send(RedisCommand("EVAL", "local i = 0 while i < 20000000 do i = i + 1 end return i", "0"))
                    } catch {
                        break
                    }
                }
                await connection.close()
            }
        }
        defer { slowing.cancel() }
        var refusal: TestHTTPResponse?
        do {
            try await cluster.eventually(timeout: .seconds(40), "the flood refused while the shard is DEGRADED") {
                let response = try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: low)
                if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id { accepted.append(id) }
                refusal = response
                return response.status == 429
            }
        } catch {
            // What the shard saw: its mode and the probe's PING latencies.
            let shard = cluster.shards["shard-a"]
            var snapshot = "?"
            do { snapshot = try await shard?.request("GET", "/scheduler/debug/snapshot", token: cluster.adminToken).text ?? "?" } catch { snapshot = "\(error)" }
            var metrics = "?"
            do { metrics = try await shard?.request("GET", "/metrics").text ?? "?" } catch { metrics = "\(error)" }
            let pings = metrics.split(separator: "\n").filter { $0.contains("ping") && !$0.hasPrefix("#") }.joined(separator: "\n")
            Issue.record("""
                last answer \(refusal?.status ?? 0) \(refusal?.text ?? ""); snapshot \(snapshot.prefix(800)); pings:
                \(pings.prefix(3000))
                shard log:
                \(shard?.diagnostics() ?? "")
                """)
            throw error
        }
        #expect(refusal?.errorCode == "degraded", "\(refusal?.text ?? "")")
        #expect((refusal?.headers["retry-after"]).flatMap(Int.init).map { $0 >= 1 } == true, "\(refusal?.headers ?? [:])")
        let shard = try #require(cluster.shards["shard-a"])
        let snapshot = try await shard.request("GET", "/scheduler/debug/snapshot", token: cluster.adminToken).text
        #expect(snapshot.contains(#""mode":"DEGRADED""#) && snapshot.contains(#""redisLatencyHigh":true"#), "\(snapshot.prefix(400))")

        // The shard's own door answers alike, for single tasks and batches holding a P4–P10.
        let direct = try await shard.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: low)
        #expect(direct.status == 429 && direct.errorCode == "degraded", "\(direct.text)")
        let mixed = TaskBatch(tasks: [TaskSubmission(command: ["true"], priority: 1), low])
        let batch = try await cluster.request("POST", "/v1/tenants/flood/tasks:batch", token: floodToken, json: mixed)
        #expect(batch.status == 429 && batch.errorCode == "degraded", "\(batch.text)")
        // Urgent classes and a tenant within its share are still accepted.
        accepted.append(try await cluster.submit(tenant: "flood", token: floodToken, TaskSubmission(command: ["true"], priority: 2)))
        let quiet = try await cluster.submit(tenant: "quiet", token: quietToken, low)

        slowing.cancel()
        for id in accepted {
            let task = try await cluster.waitForState(tenant: "flood", token: floodToken, id: id, ["ADMITTED", "REJECTED"], timeout: .seconds(20))
            #expect(task.state == "ADMITTED", "accepted task \(id) was \(task.state) \(task.reason ?? "")")
        }
        let quietTask = try await cluster.waitForState(tenant: "quiet", token: quietToken, id: quiet, ["ADMITTED", "REJECTED"], timeout: .seconds(20))
        #expect(quietTask.state == "ADMITTED", "\(quietTask.reason ?? "")")
        // Redis fast again: back to NORMAL and the door opens.
        try await cluster.eventually(timeout: .seconds(30), "the flood accepted again") {
            try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: low).status == 202
        }
    }
}
