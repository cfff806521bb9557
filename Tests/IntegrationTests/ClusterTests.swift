import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// Several shards over one Redis: slots split by the consistent-hash map over live members,
/// failover when a shard dies, clean handoff when it leaves (issue 6, without the router).
@Suite("Cluster", .serialized)
struct ClusterTests {
    /// Waits until the members named hold every slot between them, each some; returns the view.
    static func settled(_ cluster: ShardHarness, members: Set<String>, timeout: Duration = .seconds(30)) async throws -> ClusterView {
        var view: ClusterView?
        try await cluster.eventually(timeout: timeout, "slots split over \(members.sorted())") {
            view = try await cluster.clusterView()
            guard let view else { return false }
            let holders = Set(view.leases.map(\.holder))
            return view.unownedSlots.isEmpty && holders == members
                && view.members.filter(\.live).map(\.id).sorted() == members.sorted()
        }
        return view!
    }

    /// A tenant name whose slot `holder` leases in `view`.
    static func tenant(ownedBy holder: String, in view: ClusterView) -> String {
        let holders = Dictionary(uniqueKeysWithValues: view.leases.map { ($0.slot, $0.holder) })
        for index in 0..<10_000 where holders[Slotting.slot(forTenant: "t\(index)", slotCount: view.slotCount)] == holder {
            return "t\(index)"
        }
        return "none"
    }

    @Test func twoShardsSplitTheSlotsAndSendTenantsToTheirOwner() async throws {
        let a = try await ShardHarness(shardID: "shard-a")
        defer { a.stopAll() }
        let b = try await ShardHarness(redis: a.redis, shardID: "shard-b")
        defer { b.stopAll() }
        let view = try await Self.settled(a, members: ["shard-a", "shard-b"])
        let held = Dictionary(grouping: view.leases, by: \.holder).mapValues(\.count)
        #expect((held["shard-a"] ?? 0) + (held["shard-b"] ?? 0) == 256)
        #expect((held["shard-a"] ?? 0) > 64 && (held["shard-b"] ?? 0) > 64, "\(held)")
        let onB = Self.tenant(ownedBy: "shard-b", in: view)
        let misdirected = try await a.request("PUT", "/v1/admin/tenants/\(onB)", token: a.adminToken, json: TenantSettings())
        #expect(misdirected.status == 421 && misdirected.errorCode == "misdirected", "\(misdirected.text)")
        #expect(misdirected.text.contains("shard-b"))
        let (token, _) = try await b.createTenant(onB)
        #expect(try await a.request("GET", "/v1/tenants/\(onB)/tasks", token: token).status == 421)
        #expect(try await b.request("GET", "/v1/tenants/\(onB)/tasks", token: token).status == 200)
    }

    @Test func aKilledShardsSlotsAreTakenOverAndItsTasksComplete() async throws {
        let a = try await ShardHarness(shardID: "shard-a")
        defer { a.stopAll() }
        let b = try await ShardHarness(redis: a.redis, shardID: "shard-b")
        defer { b.stopAll() }
        let view = try await Self.settled(a, members: ["shard-a", "shard-b"])
        let tenant = Self.tenant(ownedBy: "shard-b", in: view)
        let (token, agentToken) = try await b.createTenant(tenant)
        var ids: [String] = []
        for _ in 0..<20 { ids.append(try await b.submit(tenant: tenant, token: token, TaskSubmission(command: ["echo", "survived"]))) }
        for id in ids { _ = try await b.waitForState(tenant: tenant, token: token, id: id, ["ADMITTED"]) }
        b.shard.kill()
        // Member TTL (5 s) and lease TTL (3 s) run out; shard-a then owns everything.
        _ = try await Self.settled(a, members: ["shard-a"], timeout: .seconds(30))
        try await a.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: "edge-1")
        for id in ids {
            let done = try await a.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED"])
            #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "survived\n")
        }
        let timeline = try await a.timeline(tenant: tenant, token: token, id: ids[0])
        #expect(timeline.contains { $0.shard == "shard-b" } && timeline.last?.shard == "shard-a", "\(timeline.map { "\($0.shard)#\($0.epoch) \($0.from)->\($0.to) \($0.reason)" })")
        let epochs = timeline.filter { !$0.shard.isEmpty }.map(\.epoch)
        #expect(epochs == epochs.sorted(), "epochs only grow across owners: \(epochs)")
    }

    @Test func aShardThatLeavesHandsItsSlotsOverWithoutWaitingForLeases() async throws {
        let a = try await ShardHarness(shardID: "shard-a", leaseTTLMs: 30_000)
        defer { a.stopAll() }
        let b = try await ShardHarness(redis: a.redis, shardID: "shard-b", leaseTTLMs: 30_000)
        defer { b.stopAll() }
        _ = try await Self.settled(a, members: ["shard-a", "shard-b"], timeout: .seconds(60))
        await b.shard.terminate(timeout: .seconds(15))
        // With 30 s leases, only a clean release lets shard-a take over this fast.
        _ = try await Self.settled(a, members: ["shard-a"], timeout: .seconds(15))
    }
}

/// Fencing: a shard paused past its lease (SIGSTOP) cannot write with its old epoch afterwards.
@Suite("Fencing", .serialized)
struct FencingTests {
    @Test func aPausedShardCannotWriteForSlotsItLost() async throws {
        let a = try await ShardHarness(shardID: "shard-a")
        defer { a.stopAll() }
        let b = try await ShardHarness(redis: a.redis, shardID: "shard-b")
        defer { b.stopAll() }
        let view = try await ClusterTests.settled(a, members: ["shard-a", "shard-b"])
        let tenant = ClusterTests.tenant(ownedBy: "shard-b", in: view)
        let (token, _) = try await b.createTenant(tenant)
        // No agents: the tasks wait, and their deadline passes while shard-b is frozen, so its
        // stale core wants to end them the moment it runs again.
        var ids: [String] = []
        for _ in 0..<5 {
            ids.append(try await b.submit(tenant: tenant, token: token, TaskSubmission(command: ["true"], deadlineAfterMs: 4_000)))
        }
        _ = try await b.waitForState(tenant: tenant, token: token, id: ids.last!, ["ADMITTED"])
        let epochBefore = try #require(try await b.timeline(tenant: tenant, token: token, id: ids[0]).last?.epoch)
        let pid = try #require(b.shard.pid)
        kill(pid, SIGSTOP)
        // Member TTL (5 s) and lease TTL (3 s) pass; shard-a takes the slots over.
        _ = try await ClusterTests.settled(a, members: ["shard-a"], timeout: .seconds(30))
        for id in ids {
            _ = try await a.waitForState(tenant: tenant, token: token, id: id, ["DEADLINE_EXCEEDED"], timeout: .seconds(20))
        }
        kill(pid, SIGCONT)
        // Give the resumed shard time to act on its stale state (it then rejoins and may get the
        // slot back with a new epoch, so read the timelines from Redis, not through one shard).
        try await Task.sleep(for: .seconds(3))
        let redis = RedisClient(configuration: a.redis)
        defer { Task { await redis.close() } }
        let store = TaskStore(redis: redis, slotCount: 256)
        #expect(b.shard.logTail(lines: 500).contains("write fenced"), "the resumed shard never tried a stale write")
        for id in ids {
            let timeline = try await store.timeline(tenant: tenant, id: id)
            let epochs = timeline.filter { !$0.shard.isEmpty }.map(\.epoch)
            #expect(epochs == epochs.sorted(), "an older epoch wrote after a newer one: \(timeline.map { "\($0.shard)#\($0.epoch) \($0.to)" })")
            #expect(!timeline.contains { $0.shard == "shard-b" && $0.epoch == epochBefore && $0.to == "DEADLINE_EXCEEDED" })
            #expect(timeline.last?.to == "DEADLINE_EXCEEDED" && timeline.last?.shard == "shard-a", "\(timeline.map { "\($0.shard)#\($0.epoch) \($0.from)->\($0.to) \($0.reason)" })")
            #expect(timeline.filter { $0.to == "DEADLINE_EXCEEDED" }.count == 1)
        }
    }
}
