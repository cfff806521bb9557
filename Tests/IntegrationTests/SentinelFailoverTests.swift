import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// Issue 13 (Sentinel): a shard and a router on `redis-sentinel://`, a real master, replica and
/// three sentinels; the master is killed with SIGKILL, the sentinels promote the replica, and the
/// cluster follows by itself: the shard passes through READ_ONLY and rebuilds from the promoted
/// replica, submissions are accepted again, and every task accepted before or after completes.
@Suite("Sentinel failover under a running cluster", .serialized, .timeLimit(.minutes(5)))
struct SentinelFailoverTests {
    static let terminal: Set<String> = ["SUCCEEDED", "FAILED", "REJECTED", "SHED", "CANCELLED", "DEADLINE_EXCEEDED", "SUSPENDED"]

    @Test func shardAndRouterFollowTheMasterToThePromotedReplica() async throws {
        let deployment = try await RedisSentinelProcess()
        defer { deployment.stop() }
        let cluster = try await RouterHarness(shardIDs: ["shard-s"], redis: deployment.configuration)
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme", settings: TenantSettings(maxQueued: 1_000, maxInFlight: 100, cpuBudget: 10_000))
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1", capacity: 2)

        // Some tasks done before the kill, some still queued or running at it.
        var accepted: [String] = []
        for index in 0..<3 { accepted.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "done-\(index)"]))) }
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: accepted[0], Self.terminal)
        for index in 0..<8 {
            accepted.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "sleep 0.5; echo pending-\(index)"])))
        }
        // Every 202 so far is on the replica too: a write of our own after them, then WAIT on the
        // same connection (the replication stream is ordered). `--redis-ack replica` will do this.
        let probe = try await RedisConnection.connect(configuration: deployment.configuration)
        _ = try await probe.send(RedisCommand("SET", "test:sentinel:marker", "1"))
        #expect(try await probe.send(RedisCommand("WAIT", 1, 2_000)) == .integer(1))
        await probe.close()

        let clock = ContinuousClock()
        let killedAt = clock.now
        let oldMaster = try await deployment.killMaster()
        var refusals: [Int: Int] = [:]
        var firstAccepted: (id: String, after: Duration)?
        let body = Data(#"{"command":["echo","after-kill"]}"#.utf8)
        while firstAccepted == nil, clock.now - killedAt < .seconds(60) {
            let response = try? await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body)
            if let response, response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id {
                firstAccepted = (id, clock.now - killedAt)
            } else {
                refusals[response?.status ?? 0, default: 0] += 1
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let (firstID, window) = try #require(firstAccepted, "no submission accepted within 60 s of the kill (\(refusals))\n\(cluster.diagnostics())\n\(deployment.sentinelLogs())")
        print("sentinel failover (product): kill -9 of the Redis master → first accepted submission through the router: \(window); refused before: \(refusals)")
        #expect(!refusals.isEmpty, "the kill went unnoticed: was the master really the shard's Redis?")
        #expect(refusals.keys.allSatisfy { $0 == 503 || $0 == 0 }, "refusals while Redis had no master are 503s: \(refusals)")
        let newMaster = try await deployment.masterPort()
        #expect(newMaster != oldMaster)

        accepted.append(firstID)
        for index in 0..<3 {
            accepted.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "after-\(index)"])))
        }
        for id in accepted {
            let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, Self.terminal, timeout: .seconds(60))
            #expect(done.state == "SUCCEEDED", "\(id): \(done.state)")
        }
        // The records live on the promoted replica, the only master left.
        let records = try await deployment.command(RedisCommand("DBSIZE"), port: newMaster).int ?? 0
        #expect(records > 0)
        // The shard went the way of a Redis outage: READ_ONLY, then a rebuild from Redis.
        let shard = try #require(cluster.shards["shard-s"]).shard!
        let log = (try? String(contentsOf: shard.logFile, encoding: .utf8)) ?? ""
        let outages = log.components(separatedBy: "Redis unreachable: entering READ_ONLY").count - 1
        let rebuilds = log.components(separatedBy: "rebuilt from Redis").count - 1
        print("sentinel failover (product): the shard entered READ_ONLY \(outages) time(s), rebuilt \(rebuilds) time(s) in all")
        let firstOutage = try #require(log.range(of: "Redis unreachable: entering READ_ONLY"), "the shard never noticed the kill")
        let lastRebuild = try #require(log.range(of: "rebuilt from Redis", options: .backwards))
        #expect(firstOutage.lowerBound < lastRebuild.lowerBound, "rebuilt from the promoted replica after the outage")
    }
}
