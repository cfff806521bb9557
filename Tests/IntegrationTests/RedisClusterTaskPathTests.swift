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

        for (master, tenant) in tenantOfMaster.sorted(by: { $0.value < $1.value }) {
            let (token, agentToken) = try await cluster.createTenant(tenant)
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
    }
}
