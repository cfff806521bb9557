import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// deploy/k8s/redis-cluster.yaml run for real on loopback: six `redis-server` nodes started with
/// exactly the StatefulSet's arguments (only the data directory moved, and each node given a
/// loopback port, cluster-bus port and log), the create Job's script run as the Job runs it (its
/// user, its environment, the pods' DNS names stood in for by loopback addresses), then a shard
/// and a router given the patches' `redis-cluster://` URLs and `--redis-ack replica` running
/// tasks end to end, each logged in as its own ACL user; and what each user must not do, refused.
@Suite("deploy: Redis Cluster manifest", .serialized, .timeLimit(.minutes(5)))
struct RedisClusterACLTests {
    /// The nodes of the manifest, started from its StatefulSet; stopped with the group.
    struct Nodes {
        let group: RedisProcessGroup
        let ports: [Int]
        /// Each pod's address as the manifests write it → its loopback stand-in.
        let addresses: [String: String]

        func log(_ port: Int) -> String { group.logTail("node-\(port)/redis.log", lines: 20) }
    }

    static func startNodes(_ set: KubernetesObject) async throws -> Nodes {
        let container = try #require(set.containers.first)
        let count = try #require(set.node["spec"]["replicas"].int)
        let group = try RedisProcessGroup(name: "deploy-redis-cluster")
        let ports = try (0..<count).map { _ in try RedisServerProcess.freeLoopbackPort() }
        for port in ports {
            let directory = group.directory.appendingPathComponent("node-\(port)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = try ManifestRedis.serverArguments(container, directory: directory)
            arguments = try ManifestRedis.replacing("--cluster-config-file", with: directory.appendingPathComponent("nodes.conf").path, in: arguments)
            let busPort = try RedisServerProcess.freeLoopbackPort()
            arguments += [
                "--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1",
                "--logfile", directory.appendingPathComponent("redis.log").path,
                // Replicas sync at once instead of after the default 5 s wait for more of them.
                "--repl-diskless-sync-delay", "0",
            ]
            try group.launch(port: port, arguments: arguments)
        }
        var addresses: [String: String] = [:]
        for (index, port) in ports.enumerated() { addresses[ManifestRedis.podAddress(set, index, port: 6379)] = "127.0.0.1:\(port)" }
        let nodes = Nodes(group: group, ports: ports, addresses: addresses)
        let deadline = ContinuousClock.now + .seconds(30)
        for port in ports {
            try await RedisProcessGroup.waitUntilAnswering(deadline: deadline, describe: { "node \(port):\n\(nodes.log(port))" }) {
                _ = try await ManifestRedis.send(RedisCommand("PING"), port: port, as: .router)
            }
        }
        return nodes
    }

    /// Runs the create Job's container as the Job would, against `nodes`.
    static func runCreateJob(_ job: KubernetesObject, nodes: Nodes) async throws -> (status: Int32, output: String) {
        let container = try #require(job.containers.first)
        let listed = try #require(KubernetesObject.environment(container)["CLUSTER_NODES"]?["value"].string)
        let names = listed.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(Set(names) == Set(nodes.addresses.keys), "the Job's CLUSTER_NODES are not the StatefulSet's pods: \(names)")
        let environment = KubernetesVariables.resolve(container["env"].list, secrets: KubernetesVariables.sampleSecrets)
            .mapValues { ManifestRedis.loopback($0, nodes.addresses) }
        return try await ContainerScript(argv: KubernetesObject.argv(container), environment: environment)
            .run(in: nodes.group.directory, name: "create-job", timeout: .seconds(90))
    }

    @Test func theJobCreatesTheClusterAndEachUserDoesItsJobAndNothingMore() async throws {
        let objects = try KubernetesObject.all()
        let set = try #require(objects.first { $0.kind == "StatefulSet" && $0.name == "fluxforge-redis-cluster" })
        let job = try #require(objects.first { $0.kind == "Job" && $0.name == "fluxforge-redis-cluster-create" })
        let nodes = try await Self.startNodes(set)
        defer { nodes.group.stop() }

        let created = try await Self.runCreateJob(job, nodes: nodes)
        try #require(created.status == 0, "the create Job failed:\n\(created.output)")
        #expect(created.output.contains("All 16384 slots covered"), "\(created.output)")
        // Every node but the masters' count a replica in sync: the replication user works.
        try await waitUntil("3 masters with a replica each in sync", timeout: .seconds(30), describe: { nodes.log(nodes.ports[0]) }) {
            var synced = 0
            for port in nodes.ports {
                let info = try await ManifestRedis.send(RedisCommand("INFO", "replication"), port: port, as: .clusterAdmin).string ?? ""
                if info.contains("role:slave"), info.contains("master_link_status:up") { synced += 1 }
            }
            return synced == nodes.ports.count / 2
        }
        // Run again (kubectl replace of the Job): it sees a cluster and leaves it alone.
        let again = try await Self.runCreateJob(job, nodes: nodes)
        #expect(again.status == 0 && again.output.contains("already form a cluster"), "\(again.output)")

        try await Self.checkRefusals(port: nodes.ports[0])
        try await Self.checkTaskPathCommands(nodes: nodes)
        try await Self.runTasks(objects: objects, nodes: nodes)
    }

    /// What each user must not do: no anonymous access; FluxForge's roles keep to `ff:*` keys and
    /// to non-admin commands (no cluster reconfiguration); the Job's and the replicas' users read
    /// no key.
    static func checkRefusals(port: Int) async throws {
        await ManifestRedis.expectRefused(RedisCommand("CLUSTER", "INFO"), port: port, as: nil)
        for user in [RedisUser.shard, .router] {
            for command in [
                RedisCommand("SET", "elsewhere", "1"), RedisCommand("KEYS", "*"), RedisCommand("FLUSHALL"), RedisCommand("CONFIG", "GET", "dir"),
                RedisCommand("CLUSTER", "MEET", "127.0.0.1", "1"), RedisCommand("CLUSTER", "FAILOVER"), RedisCommand("CLUSTER", "RESET"),
                RedisCommand("CLUSTER", "FORGET", "0000000000000000000000000000000000000000"),
            ] {
                await ManifestRedis.expectRefused(command, port: port, as: user)
            }
            // What the cluster client needs to learn the topology (its shape is the client's tests' concern).
            let shards = try await ManifestRedis.send(RedisCommand("CLUSTER", "SHARDS"), port: port, as: user)
            #expect(shards.array?.isEmpty == false, "\(user.name): CLUSTER SHARDS answered \(shards)")
        }
        for user in [RedisUser.clusterAdmin, .replication] {
            await ManifestRedis.expectRefused(RedisCommand("GET", "ff:cluster"), port: port, as: user)
            await ManifestRedis.expectRefused(RedisCommand("FLUSHALL"), port: port, as: user)
        }
        await ManifestRedis.expectRefused(RedisCommand("CONFIG", "SET", "maxmemory", "0"), port: port, as: .clusterAdmin)
        await ManifestRedis.expectRefused(RedisCommand("CLUSTER", "INFO"), port: port, as: .replication)
    }

    /// The commands of the task path, through the cluster client as the shard's user: a slot's
    /// script, its stream, its queue, and a write confirmed by the master's replica (`WAIT`).
    static func checkTaskPathCommands(nodes: Nodes) async throws {
        let client = RedisClusterClient(seeds: nodes.ports.map(RedisUser.shard.configuration(port:)))
        do {
            let script = "redis.call('XADD', KEYS[1], '*', 'task', ARGV[1]); return redis.call('ZADD', KEYS[2], 1, ARGV[1])"
            let added = try await client.send(RedisCommand("EVAL", script, "2", "ff:{s1}:acl-ingest", "ff:{s1}:acl-queue", "t1"))
            #expect(added.int == 1)
            #expect(try await client.send(RedisCommand("XLEN", "ff:{s1}:acl-ingest")).int == 1)
            #expect(try await client.send(RedisCommand("ZCARD", "ff:{s1}:acl-queue")).int == 1)
            let written = try await client.pipeline([RedisCommand("SET", "ff:{s2}:acl-probe", "1")], waitingForReplicas: 1, timeoutMs: 5_000)
            #expect(written.confirmed == 1, "no replica confirmed the write: \(written)")
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    /// A shard and a router given the patches' URLs and flags run tasks end to end.
    static func runTasks(objects: [KubernetesObject], nodes: Nodes) async throws {
        let shardPatch = try ManifestRedis.patched("k8s/patches/redis-cluster-shard.yaml", objects: objects, addresses: nodes.addresses)
        let routerPatch = try ManifestRedis.patched("k8s/patches/redis-cluster-router.yaml", objects: objects, addresses: nodes.addresses)
        #expect(!shardPatch.url.contains("fluxforge-redis-cluster") && !routerPatch.url.contains("fluxforge-redis-cluster"), "an address was left unmapped")
        let shard = try await ShardHarness(
            redis: RedisUser.shard.configuration(port: nodes.ports[0]), redisURL: shardPatch.url, shardID: "deploy-cluster-shard",
            extraArguments: shardPatch.addedArguments)
        defer { shard.stopAll() }
        let (token, agentToken) = try await shard.createTenant("acme")
        try await shard.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await shard.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "on the cluster"]))
        let done = try await shard.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "on the cluster\n")

        let router = try await RouterProcess(
            redis: RedisUser.router.configuration(port: nodes.ports[0]), redisURL: routerPatch.url, adminToken: shard.adminToken,
            directory: shard.directory, extraArguments: routerPatch.addedArguments)
        defer { router.process.kill() }
        let routed = try await router.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "routed"]))
        let finished = try await shard.waitForState(tenant: "acme", token: token, id: routed, ["SUCCEEDED", "FAILED"])
        #expect(finished.state == "SUCCEEDED", "\(router.diagnostics())")
    }
}
