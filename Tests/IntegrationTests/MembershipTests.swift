import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// Membership and leases as Redis records them, and a clean leave on SIGTERM (issue 6, items 1
/// and 5; one shard still owns every slot).
@Suite("Membership", .serialized)
struct MembershipTests {
    @Test func shardHeartbeatsHoldsLeasesAndLeavesCleanlyOnSIGTERM() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        try await cluster.eventually(timeout: .seconds(10), "shard listed as a live member") {
            let view = try await cluster.clusterView()
            return view.members.contains { $0.id == "shard-it" && $0.live }
        }
        let view = try await cluster.clusterView()
        #expect(view.slotCount == 256)
        let member = try #require(view.members.first)
        #expect(member.api == "127.0.0.1:\(cluster.apiPort)" && member.agent == "127.0.0.1:\(cluster.agentPort)")
        #expect(member.slotsHeld == 256 && view.unownedSlots.isEmpty)
        #expect(view.leases.allSatisfy { $0.holder == "shard-it" && $0.epoch >= 1 && $0.ttlMs > 0 })
        #expect(try await cluster.request("GET", "/v1/admin/cluster").status == 401)

        let redis = RedisClient(configuration: cluster.redis)
        defer { Task { await redis.close() } }
        #expect(try await redis.send(RedisCommand("HGET", ClusterKeys.cluster, "slots")).string == "256")

        await cluster.shard.terminate(timeout: .seconds(15))
        // A clean leave: no member entry and no lease left behind, so a successor need not wait.
        #expect(try await redis.send(RedisCommand("ZSCORE", ClusterKeys.members, "shard-it")).isNull)
        #expect(try await redis.send(RedisCommand("EXISTS", ClusterKeys.member("shard-it"))).int == 0)
        let leases = try await SlotInspector(redis: redis, slotCount: 256).inspect().filter { $0.lease != nil }
        #expect(leases.isEmpty, "\(leases.count) leases left after SIGTERM")
    }

    @Test func ctlCommandsDescribeTheClusterFromRedis() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        _ = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["true"]))
        try await cluster.eventually(timeout: .seconds(10), "member registered") {
            try await cluster.clusterView().members.count == 1
        }
        let url = TestDatabase.url(of: cluster.redis)
        let members = try Self.run(["ctl", "cluster", "--redis", url])
        #expect(members.contains("shard-it") && members.contains("live") && members.contains("256 slots: 256 leased, 0 unowned"), "\(members)")
        let slots = try Self.run(["ctl", "inspect", "--redis", url])
        let slot = Slotting.slot(forTenant: "acme", slotCount: 256)
        #expect(slots.split(separator: "\n").contains { $0.hasPrefix(String(repeating: " ", count: 4 - String(slot).count) + "\(slot)  shard-it:") }, "\(slots)")
    }

    /// Runs `fluxforge <arguments>` to completion (bounded) and returns its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try FluxProcess.binary()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}

extension FluxEndpoint {
    func clusterView() async throws -> ClusterView {
        let response = try await request("GET", "/v1/admin/cluster", token: adminToken)
        guard response.status == 200 else { throw HarnessError("cluster answered \(response.status): \(response.text)") }
        return try JSONDecoder().decode(ClusterView.self, from: response.body)
    }
}
