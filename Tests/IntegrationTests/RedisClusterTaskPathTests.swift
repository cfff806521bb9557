import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// The whole task path on a real Redis Cluster (issue 13): 3 masters and 3 replicas of
/// `redis-server --cluster-enabled yes`, two shards and a router given a `redis-cluster://` URL,
/// tenants whose FluxForge slots hash to each of the three masters. Their tasks are accepted
/// through the router, admitted from the ingest streams (one read per slot on a cluster),
/// dispatched to real agents and completed, and each task's record is on the master its slot's
/// hash tag names.
@Suite(.serialized) struct RedisClusterTaskPathTests {
    @Test func tasksCompleteWithTheirSlotsOnEveryMaster() async throws {
        let redisCluster = try await RedisClusterProcess()
        defer { redisCluster.stop() }
        let seeds = redisCluster.ports.prefix(3).map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a", "shard-b"], redis: redisCluster.configuration(port: redisCluster.ports[0]),
            redisURL: "redis-cluster://" + seeds)
        defer { cluster.stopAll() }

        // One tenant per master: the first name whose slot's keys hash to that master.
        let client = RedisClusterClient(seeds: redisCluster.seedConfigurations)
        defer { Task { await client.close() } }
        let topology = try await client.topology()
        var tenantOfMaster: [RedisClusterEndpoint: String] = [:]
        for index in 0..<500 where tenantOfMaster.count < topology.masterEndpoints.count {
            let name = "tenant-\(index)"
            let slot = Slotting.slot(forTenant: name, slotCount: 256)
            guard let master = topology.master(forSlot: RedisHashSlot.slot(forKey: SlotKeys(slot: slot).ingest)) else { continue }
            if tenantOfMaster[master] == nil { tenantOfMaster[master] = name }
        }
        #expect(tenantOfMaster.count == 3, "tenants found on \(tenantOfMaster.count) masters")

        var tokens: [String: String] = [:]
        for (master, tenant) in tenantOfMaster.sorted(by: { $0.value < $1.value }) {
            let (token, agentToken) = try await cluster.createTenant(tenant)
            tokens[tenant] = token
            try await cluster.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: "edge-1")
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await cluster.submit(tenant: tenant, token: token, TaskSubmission(command: ["echo", "\(tenant) \(index)"]))) }
            for id in ids {
                let task = try await cluster.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED", "REJECTED"], timeout: .seconds(30))
                #expect(task.state == "SUCCEEDED", "\(tenant) \(id): \(task.state) \(task.reason ?? "")")
                let states = try await cluster.timeline(tenant: tenant, token: token, id: id).map(\.to)
                #expect(states.last == "SUCCEEDED" && states.contains("RUNNING"), "\(states)")
            }
            // The record is on the master its hash tag names, not merely reachable.
            let key = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256)).task(ids[0])
            let exists = try await redisCluster.command(RedisCommand("EXISTS", key), port: master.port)
            #expect(exists.int == 1, "\(key) is not on \(master)")
        }

        // Idle, the shards wait on their doorbells instead of polling every slot's stream: over
        // 2 s, 256 slots are swept every 250 ms (about 2,048 reads); polling every 20 ms was
        // about 25,600.
        func calls(_ command: String) async throws -> Int {
            var total = 0
            for master in topology.masterEndpoints {
                let info = try await redisCluster.command(RedisCommand("INFO", "commandstats"), port: master.port).string ?? ""
                let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):") } ?? ""
                total += line.split(separator: ",").first.flatMap { Int($0.split(separator: "=").last ?? "") } ?? 0
            }
            return total
        }
        let readsBefore = try await calls("xreadgroup")
        try await Task.sleep(for: .seconds(2))
        let idleReads = try await calls("xreadgroup") - readsBefore
        print("redis cluster, idle: \(idleReads) XREADGROUP in 2 s for 256 slots on two shards")
        #expect(idleReads < 5_000, "idle shards poll their streams: \(idleReads) reads in 2 s")
        #expect(try await calls("bzpopmin") > 0, "no shard waited on its doorbell")

        // A submission written without a ring (a writer that did not know the owner) is still
        // found by the sweep and runs.
        let (tenant, token) = try #require(tokens.sorted { $0.key < $1.key }.first)
        let unrung = try await TaskStore(redis: client, slotCount: 256).submit(
            tenant: tenant, submission: TaskSubmission(command: ["echo", "no ring"]), idempotencyKey: nil, nowMs: WallClock.nowMs())
        guard case .created(let id) = unrung else { Issue.record("not written: \(unrung)"); return }
        let task = try await cluster.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED", "REJECTED"], timeout: .seconds(30))
        #expect(task.state == "SUCCEEDED")
    }
}

/// A Redis master killed under a steady stream of submissions (issue 13), with `--redis-ack
/// replica`: every submission answered 202 was on a replica before the answer, so it survives the
/// failover and completes; nothing is lost and no attempt runs twice; the answers in the window
/// are 503s, never a crash or a 500. The killed node is restarted 2 s after its replica took over
/// (an orchestrator's restart): meanwhile the new master has no replica, so no write to its slots
/// can be confirmed and every submission is refused `not_replicated` (with `local` they would be
/// accepted, and lost if this master died too); once the old node is back as its replica, writes
/// are confirmed and accepted again.
@Suite(.serialized) struct RedisClusterFailoverTests {
    @Test func aMasterKilledUnderSubmissionsLosesNoAcknowledgedTask() async throws {
        let redisCluster = try await RedisClusterProcess()
        defer { redisCluster.stop() }
        let seeds = redisCluster.ports.prefix(3).map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let ack = ["--redis-ack", "replica", "--redis-ack-timeout-ms", "500"]
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a"], routerArguments: ack, shardArguments: ack,
            redis: redisCluster.configuration(port: redisCluster.ports[0]), redisURL: "redis-cluster://" + seeds)
        defer { cluster.stopAll() }
        // A tenant whose slot is on a master that does not hold hash slot 0 (the probe's PING).
        let probeMaster = try await redisCluster.masterPort(forSlot: 0)
        var tenant = ""
        var victim = 0
        for index in 0..<500 {
            let name = "tenant-\(index)"
            let hashSlot = RedisHashSlot.slot(forKey: SlotKeys(slot: Slotting.slot(forTenant: name, slotCount: 256)).ingest)
            let master = try await redisCluster.masterPort(forSlot: hashSlot)
            if master != probeMaster { (tenant, victim) = (name, master); break }
        }
        let hashSlot = RedisHashSlot.slot(forKey: SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256)).ingest)
        let (token, agentToken) = try await cluster.createTenant(tenant)
        try await cluster.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: "edge-1")

        let clock = ContinuousClock()
        let start = clock.now
        var accepted: [String] = []
        var answers: [(at: Duration, status: Int, code: String?)] = []
        var killedAt: Duration?
        var promotedAt: Duration?
        var restartedAt: Duration?
        var restarted = false
        for index in 0..<10_000 {
            let elapsed = clock.now - start
            guard elapsed < .seconds(25), !(restarted && accepted.count >= 20 && answers.suffix(5).allSatisfy({ $0.status == 202 })) else { break }
            if killedAt == nil, elapsed >= .seconds(2) {
                redisCluster.kill(port: victim)
                killedAt = clock.now - start
            }
            if killedAt != nil, promotedAt == nil, let newMaster = try? await redisCluster.masterPort(forSlot: hashSlot), newMaster != victim {
                promotedAt = clock.now - start
            }
            if let promotedAt, !restarted, clock.now - start - promotedAt >= .seconds(2) {
                try redisCluster.restart(port: victim)
                restarted = true
                restartedAt = clock.now - start
            }
            let response = try await cluster.request(
                "POST", "/v1/tenants/\(tenant)/tasks", token: token, json: TaskSubmission(command: ["true"]),
                headers: ["X-Flux-Idempotency-Key": "stream-\(index)"])
            answers.append((clock.now - start, response.status, response.errorCode))
            if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id { accepted.append(id) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let killed = try #require(killedAt)
        let promoted = try #require(promotedAt, "the replica never took over")
        let restartedTime = try #require(restartedAt)
        // Without a replica, nothing is confirmed, so nothing is accepted (`--redis-ack replica`).
        let orphaned = answers.filter { $0.at > promoted + .milliseconds(600) && $0.at < restartedTime }
        // Refused as unconfirmed, or (on a loaded machine) still READ_ONLY from the failed flush:
        // either way nothing is accepted, and some write was refused for want of a replica.
        #expect(!orphaned.isEmpty && orphaned.allSatisfy { $0.status == 503 },
                "while the new master had no replica: \(orphaned.map { "\($0.status) \($0.code ?? "")" })")
        // Some write refused for want of a replica, unless the shard was READ_ONLY (or Redis
        // unreachable) for the whole window, as on a loaded machine in CI (2026-12-02: 23 of 45
        // refused, all read_only or redis_unavailable): then nothing reached the replica check.
        let stayedReadOnly = orphaned.allSatisfy { $0.code == "read_only" || $0.code == "redis_unavailable" }
        #expect(stayedReadOnly || answers.contains { $0.code == "not_replicated" }, "no write was refused for want of a replica")
        let refused = answers.filter { $0.status != 202 }
        #expect(refused.allSatisfy { $0.status == 503 || $0.status == 429 }, "\(refused.map { "\($0.status) \($0.code ?? "")" })")
        let window = (refused.last?.at ?? killed) - killed
        print("redis master killed at \(killed), replica promoted \(promoted - killed) later, old master back \(restartedTime - killed) after the kill: "
              + "\(refused.count) of \(answers.count) submissions refused, the last \(window) after the kill; codes \(Set(refused.compactMap(\.code)).sorted())")
        #expect(answers.last?.status == 202, "not accepting again: \(answers.suffix(3).map { "\($0.status) \($0.code ?? "")" })")

        // Every acknowledged task completes, each attempt ran at most once.
        for id in accepted {
            let task = try await cluster.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED", "REJECTED"], timeout: .seconds(60))
            #expect(task.state == "SUCCEEDED", "acknowledged task \(id) ended \(task.state) \(task.reason ?? "")")
            let runs = try await cluster.timeline(tenant: tenant, token: token, id: id).filter { $0.to == "RUNNING" }.map(\.attempt)
            #expect(Set(runs).count == runs.count, "an attempt of \(id) ran twice: \(runs)")
        }
    }
}

/// Resharding under load (issue 13): the hash slot of a tenant's FluxForge slot — its ingest
/// stream, task records, timelines, counters, lease — moves to another master (`IMPORTING` /
/// `MIGRATING`, `MIGRATE` of every key, `SETSLOT NODE`, as `redis-cli --cluster reshard` does)
/// while the tenant submits and its agent runs tasks. `ASK`, `TRYAGAIN` and `MOVED` are followed:
/// no submission fails, every task completes, no attempt runs twice, and the records end on the
/// new master.
@Suite(.serialized) struct RedisClusterReshardTests {
    @Test func aSlotMovedUnderSubmissionsLosesNothing() async throws {
        let redisCluster = try await RedisClusterProcess()
        defer { redisCluster.stop() }
        let seeds = redisCluster.ports.prefix(3).map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a"], redis: redisCluster.configuration(port: redisCluster.ports[0]), redisURL: "redis-cluster://" + seeds)
        defer { cluster.stopAll() }
        let tenant = "acme"
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256))
        let hashSlot = RedisHashSlot.slot(forKey: keys.ingest)
        let source = try await redisCluster.masterPort(forSlot: hashSlot)
        let target = try #require(try await redisCluster.topology().masterEndpoints.map(\.port).first { $0 != source })
        let (token, agentToken) = try await cluster.createTenant(tenant)
        try await cluster.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: "edge-1")

        let clock = ContinuousClock()
        let start = clock.now
        var accepted: [String] = []
        var refused: [String] = []
        var migration: Task<Void, any Error>?
        while clock.now - start < .seconds(6) {
            if migration == nil, clock.now - start >= .seconds(1) {
                migration = Task { try await redisCluster.migrateSlot(hashSlot, to: target) }
            }
            let response = try await cluster.request("POST", "/v1/tenants/\(tenant)/tasks", token: token, json: TaskSubmission(command: ["true"]))
            if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id {
                accepted.append(id)
            } else {
                refused.append("\(response.status) \(response.errorCode ?? "")")
            }
            try await Task.sleep(for: .milliseconds(30))
        }
        try await #require(migration).value
        #expect(try await redisCluster.masterPort(forSlot: hashSlot) == target, "the slot did not move")
        #expect(refused.isEmpty, "submissions failed during the move: \(refused)")
        for id in accepted {
            let task = try await cluster.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED", "REJECTED"], timeout: .seconds(30))
            #expect(task.state == "SUCCEEDED", "\(id) ended \(task.state) \(task.reason ?? "")")
            let runs = try await cluster.timeline(tenant: tenant, token: token, id: id).filter { $0.to == "RUNNING" }.map(\.attempt)
            #expect(Set(runs).count == runs.count, "an attempt of \(id) ran twice: \(runs)")
        }
        let onTarget = try await redisCluster.command(RedisCommand("EXISTS", keys.task(try #require(accepted.first))), port: target)
        #expect(onTarget.int == 1, "the first task's record is not on the new master")
        print("resharding under load: \(accepted.count) submissions accepted, \(refused.count) refused while hash slot \(hashSlot) moved")
    }
}
