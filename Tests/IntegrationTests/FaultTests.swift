import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// Crashes and outages: nothing accepted is lost, no attempt runs twice.
@Suite("Faults", .serialized)
struct FaultTests {
    /// States a task can end in.
    static let terminal: Set<String> = ["SUCCEEDED", "FAILED", "REJECTED", "SHED", "CANCELLED", "DEADLINE_EXCEEDED", "SUSPENDED"]

    @Test func shardKilledWithTwoThousandTasksInFlightLosesNothing() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme", settings: TenantSettings(maxQueued: 10_000, maxInFlight: 1_000, cpuBudget: 100_000))
        for index in 1...3 {
            try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-\(index)", capacity: 16)
        }
        let log = cluster.directory.appendingPathComponent("executions.log").path
        let command = ["sh", "-c", "echo \"$FLUX_TASK_ID $FLUX_ATTEMPT\" >> \(log)"]
        var ids: [String] = []
        for _ in 0..<2 {
            let batch = TaskBatch(tasks: Array(repeating: TaskSubmission(command: command, timeoutMs: 5_000), count: 1_000))
            let response = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, json: batch)
            try #require(response.status == 202, "\(response.text)")
            ids += try JSONDecoder().decode(TaskBatchAccepted.self, from: response.body).tasks.map(\.id)
        }
        #expect(ids.count == 2_000)
        // Crash the shard while work is in every state, then start it again.
        try await Task.sleep(for: .milliseconds(300))
        cluster.shard.kill()
        try await cluster.restartShard()
        let redis = RedisClient(configuration: cluster.redis)
        defer { Task { await redis.close() } }
        var states: [String: String] = [:]
        do {
            try await cluster.eventually(timeout: .seconds(120), "all 2000 tasks terminal") {
                states = try await Self.states(of: ids, redis: redis)
                return states.values.allSatisfy { Self.terminal.contains($0) } && states.count == ids.count
            }
        } catch {
            let histogram = Dictionary(grouping: states.values, by: { $0 }).mapValues(\.count)
            Issue.record("not all terminal: \(histogram), \(states.count) records")
            throw error
        }
        #expect(states.values.allSatisfy { $0 == "SUCCEEDED" }, "\(Dictionary(grouping: states.values, by: { $0 }).mapValues(\.count))")
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        let counts = Dictionary(grouping: lines, by: { String($0) }).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 == 1 }, "an attempt ran twice: \(counts.filter { $0.value > 1 }.prefix(5))")
        let executedTasks = Set(lines.map { String($0.split(separator: " ")[0]) })
        #expect(executedTasks == Set(ids), "every task ran at least once")
        // Every entry is delivered and acknowledged now: the shard trims the ingest stream.
        let ingest = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: 256)).ingest
        try await cluster.eventually(timeout: .seconds(20), "ingest stream trimmed") {
            (try await redis.send(RedisCommand("XLEN", ingest)).int ?? 0) <= 1
        }
    }

    @Test func redisOutageMakesTheShardReadOnlyUntilRedisReturns() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        defer { server.stop() }
        let cluster = try await ShardHarness(redis: server.configuration)
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        // Accepted before the outage, waiting for a node that arrives after it.
        let early = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "early"]))
        server.kill()
        let body = Data(#"{"command":["echo","during"]}"#.utf8)
        let during = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body)
        #expect(during.status == 503)
        try await cluster.eventually(timeout: .seconds(10), "readyz 503") {
            try await cluster.request("GET", "/readyz").status == 503
        }
        let refused = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body)
        #expect(refused.status == 503)
        #expect(refused.errorCode == "read_only" || refused.errorCode == "redis_unavailable")
        try await server.restart()
        try await cluster.waitUntilReady(timeout: .seconds(30))
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let late = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "late"]))
        for id in [early, late] {
            let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, Self.terminal)
            #expect(done.state == "SUCCEEDED")
        }
    }

    static func states(of ids: [String], redis: RedisClient) async throws -> [String: String] {
        var states: [String: String] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let replies = try await redis.pipeline(chunk.map { RedisCommand("HGET", SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: 256)).task($0), "state") })
            for (id, reply) in zip(chunk, replies) { if let state = reply.string { states[id] = state } }
        }
        return states
    }
}
