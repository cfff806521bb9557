import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// The Redis ACL of deploy/k8s/redis.yaml, run for real: a `redis-server` started with exactly the
/// manifest's `--user` rules, a shard logged in as `fluxforge-shard` doing its whole job (a task
/// runs end to end on a real agent), a router logged in as `fluxforge-router` routing a
/// submission, anonymous access refused, and what the roles must not do refused too.
@Suite("deploy: Redis ACL", .serialized)
struct RedisACLTests {
    static let passwords = ["FLUXFORGE_REDIS_SHARD_PASSWORD": "5a7d1e0c9b", "FLUXFORGE_REDIS_ROUTER_PASSWORD": "0be4f71c2d"]

    /// The manifest's Redis arguments after `redis-server`, with the passwords filled in and the
    /// data directory and AOF left to the test server.
    static func manifestArguments() throws -> [String] {
        let redis = try #require(try KubernetesObject.all().first { $0.kind == "StatefulSet" && $0.name == "fluxforge-redis" })
        var arguments = Array((redis.containers.first?["args"].strings ?? []).dropFirst())
        for option in ["--dir", "--appendonly", "--maxmemory"] {
            if let index = arguments.firstIndex(of: option) { arguments.removeSubrange(index...index + 1) }
        }
        return arguments.map { argument in
            passwords.reduce(argument) { $0.replacingOccurrences(of: "$(\($1.key))", with: $1.value) }
        }
    }

    @Test func redisRefusesWritesWhenFullInsteadOfEvicting() throws {
        let compose = try ManifestFile.load("compose.yaml").documents[0]["services"]["redis"]["command"].strings ?? []
        let kubernetes = try #require(try KubernetesObject.all().first { $0.kind == "StatefulSet" && $0.name == "fluxforge-redis" })
        for (source, argv) in [("compose.yaml", compose), ("k8s/redis.yaml", kubernetes.containers.first?["args"].strings ?? [])] {
            let policy = argv.firstIndex(of: "--maxmemory-policy").map { argv[$0 + 1] }
            #expect(policy == "noeviction", "\(source): an evicting Redis can drop a lease or a task record")
            #expect(argv.contains("--maxmemory"), "\(source): without a limit Redis grows until the kernel kills it")
        }
    }

    @Test func theManifestsACLLetsEachRoleDoItsJobAndNothingMore() async throws {
        let arguments = try Self.manifestArguments()
        #expect(arguments.contains("fluxforge-shard") && arguments.contains("fluxforge-router"))
        let server = try await RedisServerProcess(extraArguments: arguments)
        defer { server.stop() }
        var shardRole = server.configuration
        shardRole.username = "fluxforge-shard"
        shardRole.password = Self.passwords["FLUXFORGE_REDIS_SHARD_PASSWORD"]
        var routerRole = shardRole
        routerRole.username = "fluxforge-router"
        routerRole.password = Self.passwords["FLUXFORGE_REDIS_ROUTER_PASSWORD"]

        // Nobody gets in without a user, and a role cannot step outside FluxForge's keys or use
        // admin commands.
        let anonymous = try await RedisConnection.connect(configuration: server.configuration)
        await #expect(throws: RedisError.self) { _ = try await anonymous.send(RedisCommand("GET", "ff:cluster")) }
        await anonymous.close()
        let shardConnection = try await RedisConnection.connect(configuration: shardRole)
        #expect(try await shardConnection.send(RedisCommand("SET", "ff:acl-probe", "1")).string == "OK")
        for command in [RedisCommand("SET", "elsewhere", "1"), RedisCommand("KEYS", "*"), RedisCommand("FLUSHALL"), RedisCommand("CONFIG", "GET", "dir")] {
            await #expect(throws: RedisError.self, "\(command) must be refused") { _ = try await shardConnection.send(command) }
        }
        await shardConnection.close()

        // The shard's whole task path under its role.
        let shard = try await ShardHarness(redis: shardRole, shardID: "acl-shard")
        defer { shard.stopAll() }
        let (token, agentToken) = try await shard.createTenant("acme")
        try await shard.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await shard.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "under acl"]))
        let done = try await shard.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "under acl\n")

        // A router under its role reads the owners, signs and forwards a submission.
        let router = try await RouterProcess(redis: routerRole, adminToken: shard.adminToken, directory: shard.directory)
        defer { router.process.kill() }
        let routed = try await router.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "routed"]))
        let finished = try await shard.waitForState(tenant: "acme", token: token, id: routed, ["SUCCEEDED", "FAILED"])
        #expect(finished.state == "SUCCEEDED")
    }
}

/// A bare router process in front of whatever shards its Redis knows. `redisURL` is its
/// `--redis` when `redis` alone cannot say it (a `redis-cluster://` URL); `extraArguments` go
/// last.
final class RouterProcess: FluxEndpoint, @unchecked Sendable {
    let process: FluxProcess
    let apiPort: Int
    let agentPort: Int
    let adminToken: String
    let directory: URL

    init(redis: RedisConfiguration, redisURL: String? = nil, adminToken: String, directory: URL, extraArguments: [String] = []) async throws {
        apiPort = try RedisServerProcess.freeLoopbackPort()
        agentPort = try RedisServerProcess.freeLoopbackPort()
        self.adminToken = adminToken
        self.directory = directory
        process = try FluxProcess(name: "acl-router", arguments: [
            "router", "--redis", redisURL ?? TestDatabase.url(of: redis), "--api-port", String(apiPort), "--agent-port", String(agentPort),
            "--admin-token", adminToken, "--refresh-ms", "200", "--insecure-dev",
        ] + extraArguments, directory: directory)
        try await eventually(timeout: .seconds(30), "router ready") {
            (try? await self.request("GET", "/readyz"))?.status == 200
        }
    }

    var baseURL: String { "http://127.0.0.1:\(apiPort)" }
    var agentURL: String { "ws://127.0.0.1:\(agentPort)/v1/agent/connect" }
    func diagnostics() -> String { "--- router log:\n\(process.logTail())" }
    func track(_ agent: FluxProcess, as node: String) {}
}
