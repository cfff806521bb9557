import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// Issue 13 (Sentinel): a shard and a router on `redis-sentinel://` with `--redis-ack replica`,
/// a real master, two replicas and three sentinels. The master is killed with SIGKILL, the
/// sentinels promote a replica, and the cluster follows by itself: the shard passes through
/// READ_ONLY and rebuilds from the promoted replica, submissions are accepted again, and every
/// task accepted before or after completes: none lost. A replica that stalls (SIGSTOP) holds the
/// shard's dispatches until it catches up, instead of taking the shard down.
@Suite("Sentinel failover under a running cluster", .serialized, .timeLimit(.minutes(5)))
struct SentinelFailoverTests {
    static let terminal: Set<String> = ["SUCCEEDED", "FAILED", "REJECTED", "SHED", "CANCELLED", "DEADLINE_EXCEEDED", "SUSPENDED"]

    static let replicaAck = ["--redis-ack", "replica", "--redis-ack-timeout-ms", "300"]

    @Test func shardAndRouterFollowTheMasterToThePromotedReplica() async throws {
        // Two replicas: after the promotion the new master still has one, so `WAIT 1` can be met.
        let deployment = try await RedisSentinelProcess(replicas: 2)
        defer { deployment.stop() }
        let cluster = try await RouterHarness(
            shardIDs: ["shard-s"], routerArguments: Self.replicaAck, shardArguments: Self.replicaAck, redis: deployment.configuration)
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
        // Every 202 so far is on a replica too: `--redis-ack replica` answered only after `WAIT 1`.

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

    /// A replica stalls (SIGSTOP) for 2.5 s while tasks run: no `WAIT` is met, so the shard holds
    /// the turn's dispatches and answers (they are on the master) and retries a barrier until the
    /// replica is back. It must not take the stall for a Redis outage (READ_ONLY and a rebuild),
    /// and every task accepted completes once the replica catches up.
    @Test func aStalledReplicaHoldsDispatchesInsteadOfTakingTheShardDown() async throws {
        let deployment = try await RedisSentinelProcess(replicas: 1)
        defer { deployment.stop() }
        let cluster = try await RouterHarness(
            shardIDs: ["shard-h"], routerArguments: Self.replicaAck, shardArguments: Self.replicaAck, redis: deployment.configuration)
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme", settings: TenantSettings(maxQueued: 1_000, maxInFlight: 100, cpuBudget: 10_000))
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1", capacity: 4)

        let warmup = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "warm"]))
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: warmup, Self.terminal)
        // Running when the replica stalls: their RUNNING/SUCCEEDED writes cannot be confirmed.
        var accepted: [String] = []
        for index in 0..<6 {
            accepted.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "sleep 0.3; echo held-\(index)"])))
        }
        let replica = try #require(deployment.dataPorts.last)
        deployment.pause(port: replica)
        // Submissions during the stall: a 503 (`not_replicated`) is honest; a 202 must complete.
        var refusals: [Int: Int] = [:]
        let body = Data(#"{"command":["echo","during-stall"]}"#.utf8)
        let clock = ContinuousClock()
        let stalledAt = clock.now
        while clock.now - stalledAt < .milliseconds(2_500) {
            let response = try? await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body)
            if let response, response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id {
                accepted.append(id)
            } else {
                refusals[response?.status ?? 0, default: 0] += 1
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        deployment.resume(port: replica)
        print("replica stall (product): 2.5 s SIGSTOP of the only replica; submissions refused meanwhile: \(refusals)")
        #expect(refusals.keys.allSatisfy { $0 == 503 }, "a stalled replica refuses submissions with 503 not_replicated: \(refusals)")

        for id in accepted {
            let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, Self.terminal, timeout: .seconds(30))
            #expect(done.state == "SUCCEEDED", "\(id): \(done.state)")
        }
        let shard = try #require(cluster.shards["shard-h"]).shard!
        let log = (try? String(contentsOf: shard.logFile, encoding: .utf8)) ?? ""
        #expect(log.contains("holding dispatches until one does"), "the stall was never seen by a flush:\n\(cluster.diagnostics())")
        #expect(log.contains("a replica confirmed the held writes"))
        #expect(!log.contains("entering READ_ONLY"), "a stalled replica is not a Redis outage:\n\(cluster.diagnostics())")
    }
}
