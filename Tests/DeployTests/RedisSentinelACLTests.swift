import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// deploy/k8s/redis-sentinel.yaml run for real on loopback: each data pod's init container script
/// decides its role and the node starts with exactly the StatefulSet's arguments (data directory
/// and role file moved, bound to 127.0.0.1); each sentinel's init script writes its configuration
/// and the sentinel starts from it. A shard and a router given the patches' `redis-sentinel://`
/// URLs and `--redis-ack replica` run tasks, each as its own ACL user (which has `+role`). Then
/// the master is killed: the sentinels promote a replica with their own ACL user, FluxForge
/// follows, and the old master's init script, run again as at its pod's restart, makes it a
/// replica of the new one. The pods' DNS names are stood in for by loopback addresses.
@Suite("deploy: Redis Sentinel manifest", .serialized, .timeLimit(.minutes(5)))
struct RedisSentinelACLTests {
    /// The manifest's processes on loopback; stopped with the group.
    struct Deployment {
        let group: RedisProcessGroup
        let dataSet: KubernetesObject
        let sentinelSet: KubernetesObject
        let dataPorts: [Int]
        let sentinelPorts: [Int]
        /// Each pod's address as the manifests write it → its loopback stand-in.
        let addresses: [String: String]
        let masterName: String

        func podDirectory(_ port: Int) -> URL { group.directory.appendingPathComponent("pod-\(port)") }
        func log(_ port: Int) -> String { group.logTail("pod-\(port)/redis.log", lines: 20) }
        var sentinelLogs: String { sentinelPorts.map { "--- sentinel \($0):\n\(log($0))" }.joined(separator: "\n") }
        var sentinelPassword: String { KubernetesVariables.sampleSecrets["sentinel-password"] ?? "" }

        /// An init container's environment for pod `index` of `set`: the manifest's, with the pod's
        /// name from the downward API, the sample secrets, loopback addresses and `overrides`.
        func initEnvironment(_ container: YAMLNode, set: KubernetesObject, index: Int, overrides: [String: String]) -> [String: String] {
            var fixed = overrides
            fixed["POD_NAME"] = "\(set.name)-\(index)"
            return KubernetesVariables.resolve(container["env"].list, secrets: KubernetesVariables.sampleSecrets, overrides: fixed)
                .mapValues { ManifestRedis.loopback($0, addresses) }
        }

        /// Runs the init container of pod `index` of `set` in the pod's directory, with the file it
        /// writes (named by the variable `fileVariable`) moved to `fileName` there; returns that
        /// file's path in the manifest and here.
        func runInitContainer(
            of set: KubernetesObject, index: Int, port: Int, writing fileVariable: String, as fileName: String,
            overrides: [String: String] = [:]
        ) async throws -> (manifestPath: String, localPath: String) {
            let directory = podDirectory(port)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let initContainer = try #require(set.podSpec["initContainers"].list.first)
            let manifestPath = try #require(KubernetesObject.environment(initContainer)[fileVariable]?["value"].string)
            let localPath = directory.appendingPathComponent(fileName).path
            let environment = initEnvironment(initContainer, set: set, index: index, overrides: overrides.merging([fileVariable: localPath]) { $1 })
            let run = try await ContainerScript(argv: KubernetesObject.argv(initContainer), environment: environment)
                .run(in: group.directory, name: "init-\(port)", timeout: .seconds(30))
            try #require(run.status == 0, "pod \(set.name)-\(index)'s init container failed:\n\(run.output)")
            return (manifestPath, localPath)
        }

        /// Runs data pod `index`'s init container, then its node; returns the role file written.
        @discardableResult
        func startDataNode(_ index: Int) async throws -> String {
            let port = dataPorts[index]
            let directory = podDirectory(port)
            let (manifestRoleFile, roleFile) = try await runInitContainer(
                of: dataSet, index: index, port: port, writing: "ROLE_CONF", as: "role.conf")
            var arguments = try ManifestRedis.serverArguments(try #require(dataSet.containers.first), directory: directory)
            let roleArgument = try #require(arguments.firstIndex(of: manifestRoleFile), "the node does not read \(manifestRoleFile): \(arguments)")
            arguments[roleArgument] = roleFile
            arguments += ["--bind", "127.0.0.1", "--logfile", directory.appendingPathComponent("redis.log").path, "--repl-diskless-sync-delay", "0"]
            try group.launch(port: port, arguments: arguments)
            return try String(contentsOfFile: roleFile, encoding: .utf8)
        }

        /// Runs sentinel pod `index`'s init container, then the sentinel. `downAfter` replaces the
        /// manifest's DOWN_AFTER_MS (5 s) so a failover takes a few seconds here.
        func startSentinel(_ index: Int, downAfter: Duration) async throws {
            let port = sentinelPorts[index]
            let directory = podDirectory(port)
            let (manifestConfig, config) = try await runInitContainer(
                of: sentinelSet, index: index, port: port, writing: "SENTINEL_CONF", as: "sentinel.conf",
                overrides: ["DOWN_AFTER_MS": String(Int(downAfter / .milliseconds(1)))])
            let argv = KubernetesObject.argv(try #require(sentinelSet.containers.first))
            try #require(argv.first == "redis-server" && argv.contains(manifestConfig) && argv.contains("--sentinel"), "\(argv)")
            let arguments = argv.dropFirst().map { $0 == manifestConfig ? config : $0 }
                + ["--bind", "127.0.0.1", "--logfile", directory.appendingPathComponent("redis.log").path]
            try group.launch(port: port, arguments: arguments)
        }

        /// `SENTINEL <arguments>` on the sentinel on `port`, with the sentinels' password.
        func sentinel(_ port: Int, _ arguments: String...) async throws -> RedisReply {
            let configuration = ManifestRedis.configuration(port: port, password: sentinelPassword)
            return try await RedisProcessGroup.command(RedisCommand("SENTINEL", arguments: arguments), configuration: configuration)
        }

        /// The master the sentinel on `port` names, as `host:port`.
        func master(askingSentinel port: Int) async throws -> String {
            let reply = try await sentinel(port, "GET-MASTER-ADDR-BY-NAME", masterName)
            return (reply.array ?? []).compactMap(\.string).joined(separator: ":")
        }
    }

    static func start(objects: [KubernetesObject]) async throws -> Deployment {
        let dataSet = try #require(objects.first { $0.kind == "StatefulSet" && $0.name == "fluxforge-redis-data" })
        let sentinelSet = try #require(objects.first { $0.kind == "StatefulSet" && $0.name == "fluxforge-redis-sentinel" })
        let dataCount = try #require(dataSet.node["spec"]["replicas"].int)
        let sentinelCount = try #require(sentinelSet.node["spec"]["replicas"].int)
        let group = try RedisProcessGroup(name: "deploy-redis-sentinel")
        let dataPorts = try (0..<dataCount).map { _ in try RedisServerProcess.freeLoopbackPort() }
        let sentinelPorts = try (0..<sentinelCount).map { _ in try RedisServerProcess.freeLoopbackPort() }
        var addresses: [String: String] = [:]
        for (index, port) in dataPorts.enumerated() { addresses[ManifestRedis.podAddress(dataSet, index, port: 6379)] = "127.0.0.1:\(port)" }
        for (index, port) in sentinelPorts.enumerated() { addresses[ManifestRedis.podAddress(sentinelSet, index, port: 26379)] = "127.0.0.1:\(port)" }
        let configure = try #require(sentinelSet.podSpec["initContainers"].list.first)
        let masterName = try #require(KubernetesObject.environment(configure)["MASTER_NAME"]?["value"].string)
        return Deployment(group: group, dataSet: dataSet, sentinelSet: sentinelSet, dataPorts: dataPorts, sentinelPorts: sentinelPorts,
                          addresses: addresses, masterName: masterName)
    }

    @Test func theManifestsDeploymentServesFluxForgeAndFailsOverWithItsOwnUsers() async throws {
        let objects = try KubernetesObject.all()
        let deployment = try await Self.start(objects: objects)
        defer { deployment.group.stop() }
        let master = "127.0.0.1:\(deployment.dataPorts[0])"

        // The very first start: no sentinel answers, so the first pod is master, the others its replicas.
        for index in deployment.dataPorts.indices {
            let role = try await deployment.startDataNode(index)
            #expect(role.contains("replicaof") == (index != 0), "data pod \(index): \(role)")
            if index != 0 { #expect(role.contains("replicaof 127.0.0.1 \(deployment.dataPorts[0])"), "\(role)") }
        }
        let replicas = deployment.dataPorts.count - 1
        try await waitUntil("\(replicas) replicas in sync", timeout: .seconds(30), describe: { deployment.log(deployment.dataPorts[0]) }) {
            let info = try await ManifestRedis.send(RedisCommand("INFO", "replication"), port: deployment.dataPorts[0], as: .sentinelMonitor).string ?? ""
            return info.components(separatedBy: "state=online").count - 1 == replicas
        }
        for index in deployment.sentinelPorts.indices { try await deployment.startSentinel(index, downAfter: .seconds(1)) }
        for port in deployment.sentinelPorts {
            try await waitUntil("sentinel \(port) sees the master, \(replicas) replicas and the other sentinels", timeout: .seconds(30),
                                describe: { deployment.sentinelLogs }) {
                let fields = (try await deployment.sentinel(port, "MASTER", deployment.masterName).array ?? []).compactMap(\.string)
                let state = Dictionary(stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0], fields[$0 + 1]) }) { $1 }
                return state["flags"] == "master" && state["num-slaves"] == String(replicas)
                    && state["num-other-sentinels"] == String(deployment.sentinelPorts.count - 1)
            }
            #expect(try await deployment.master(askingSentinel: port) == master)
        }

        try await Self.checkRefusals(deployment)
        try await Self.runTasksAcrossAFailover(objects: objects, deployment)
    }

    /// The sentinels answer only with their password; FluxForge's users may ask `ROLE` (the
    /// client checks the node a sentinel names) but nothing admin; the sentinels' and the
    /// replicas' users read no key.
    static func checkRefusals(_ deployment: Deployment) async throws {
        let sentinel = deployment.sentinelPorts[0]
        await ManifestRedis.expectRefused(RedisCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", deployment.masterName), port: sentinel, as: nil)
        let master = deployment.dataPorts[0]
        await ManifestRedis.expectRefused(RedisCommand("GET", "ff:cluster"), port: master, as: nil)
        for user in [RedisUser.shard, .router] {
            let role = try await ManifestRedis.send(RedisCommand("ROLE"), port: master, as: user)
            #expect(role.array?.first?.string == "master", "\(user.name): ROLE answered \(role)")
            for command in [
                RedisCommand("SET", "elsewhere", "1"), RedisCommand("KEYS", "*"), RedisCommand("FLUSHALL"), RedisCommand("CONFIG", "GET", "dir"),
                RedisCommand("REPLICAOF", "NO", "ONE"), RedisCommand("INFO"),
            ] {
                await ManifestRedis.expectRefused(command, port: master, as: user)
            }
        }
        for user in [RedisUser.sentinelMonitor, .replication] {
            await ManifestRedis.expectRefused(RedisCommand("GET", "ff:cluster"), port: master, as: user)
            await ManifestRedis.expectRefused(RedisCommand("FLUSHALL"), port: master, as: user)
        }
        await ManifestRedis.expectRefused(RedisCommand("CONFIG", "SET", "maxmemory", "0"), port: master, as: .sentinelMonitor)
    }

    /// A shard and a router on the patches' URLs run a task; the master is killed; the sentinels
    /// promote a replica; a task submitted through the router afterwards runs; the old master's
    /// pod, restarted, comes back as a replica of the new master.
    static func runTasksAcrossAFailover(objects: [KubernetesObject], _ deployment: Deployment) async throws {
        let shardPatch = try ManifestRedis.patched("k8s/patches/redis-sentinel-shard.yaml", objects: objects, addresses: deployment.addresses)
        let routerPatch = try ManifestRedis.patched("k8s/patches/redis-sentinel-router.yaml", objects: objects, addresses: deployment.addresses)
        #expect(!shardPatch.url.contains("fluxforge-redis-sentinel") && !routerPatch.url.contains("fluxforge-redis-sentinel"), "an address was left unmapped")
        var shardRedis = try RedisConfiguration(url: shardPatch.url)
        shardRedis.connectTimeout = .seconds(5)
        let shard = try await ShardHarness(redis: shardRedis, redisURL: shardPatch.url, shardID: "deploy-sentinel-shard", extraArguments: shardPatch.addedArguments)
        defer { shard.stopAll() }
        let router = try await RouterProcess(
            redis: try RedisConfiguration(url: routerPatch.url), redisURL: routerPatch.url, adminToken: shard.adminToken,
            directory: shard.directory, extraArguments: routerPatch.addedArguments)
        defer { router.process.kill() }
        let (token, agentToken) = try await shard.createTenant("acme")
        try await shard.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let before = try await router.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "before"]))
        #expect(try await shard.waitForState(tenant: "acme", token: token, id: before, ["SUCCEEDED", "FAILED"]).state == "SUCCEEDED")

        let oldMaster = deployment.dataPorts[0]
        deployment.group.kill(port: oldMaster)
        var newMaster = ""
        try await waitUntil("the sentinels promote a replica", timeout: .seconds(30), describe: { deployment.sentinelLogs }) {
            newMaster = try await deployment.master(askingSentinel: deployment.sentinelPorts[0])
            return !newMaster.isEmpty && newMaster != "127.0.0.1:\(oldMaster)"
        }
        // Refused (503) while the shard rebuilds from the new master and its replica catches up.
        var after: String?
        try await waitUntil("a submission accepted after the failover", timeout: .seconds(60), interval: .milliseconds(250),
                            describe: { "\(shard.diagnostics())\n\(deployment.sentinelLogs)" }) {
            after = try? await router.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "after"]))
            return after != nil
        }
        let id = try #require(after)
        let done = try await shard.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"], timeout: .seconds(60))
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "after\n")

        // The old master's pod restarts: its init container asks the sentinels and makes it a replica.
        let role = try await deployment.startDataNode(0)
        let promoted = newMaster.split(separator: ":")
        #expect(role.contains("replicaof \(promoted.first ?? "") \(promoted.last ?? "")"), "the restarted old master: \(role)")
        try await waitUntil("the old master syncs from the new one", timeout: .seconds(30), describe: { deployment.log(oldMaster) }) {
            let info = try await ManifestRedis.send(RedisCommand("INFO", "replication"), port: oldMaster, as: .sentinelMonitor).string ?? ""
            return info.contains("role:slave") && info.contains("master_link_status:up")
        }
    }
}
