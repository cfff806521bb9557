public import FluxAPI
public import FluxRedis
public import Foundation

/// A real cluster on loopback: shard processes and a router process over one isolated Redis
/// database. Tests talk to the router only, as clients and agents do in production; the shard
/// harnesses stay reachable for killing, pausing and reading their logs.
public final class RouterHarness: FluxEndpoint, @unchecked Sendable {
    public let redis: RedisConfiguration
    /// The processes' `--redis` when not `redis`'s own URL (a Redis Cluster's).
    public let redisURL: String?
    public let apiPort: Int
    public let agentPort: Int
    public let adminToken = "test-admin-token"
    public let directory: URL
    public private(set) var router: FluxProcess!
    /// By shard id, in start order of `shardIDs`.
    public private(set) var shards: [String: ShardHarness] = [:]
    public private(set) var agents: [String: FluxProcess] = [:]
    /// The agent process of `tenant`'s node `node`, if the harness started it.
    public func agent(_ tenant: String, _ node: String) -> FluxProcess? { lock.withLock { agents[tenant + "/" + node] } }
    private let leaseTTLMs: Int
    /// Extra flags for every shard this harness starts (`--ca DIR`, …).
    private let shardArguments: [String]
    private let lock = NSLock()

    /// Starts `shardIDs` and a router, and waits until the shards hold every slot between them
    /// and the router routes to them. `redis`: a server of the test's own (one it slows down or
    /// kills); by default a fresh database of the shared test server. `redisURL`: the processes'
    /// `--redis` when `redis` alone cannot say it (`redis-cluster://…`; `redis` is one node).
    public init(
        shardIDs: [String], leaseTTLMs: Int = 3_000, routerArguments: [String] = [], shardArguments: [String] = [],
        redis: RedisConfiguration? = nil, redisURL: String? = nil
    ) async throws {
        if let redis { self.redis = redis } else { self.redis = try await TestDatabase.isolated() }
        self.redisURL = redisURL
        self.leaseTTLMs = leaseTTLMs
        self.shardArguments = shardArguments
        apiPort = try RedisServerProcess.freeLoopbackPort()
        agentPort = try RedisServerProcess.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-router-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for id in shardIDs { _ = try await addShard(id, waitUntilSettled: false) }
        router = try FluxProcess(name: "router", arguments: [
            "router", "--redis", redisURL ?? TestDatabase.url(of: self.redis), "--api-port", String(apiPort), "--agent-port", String(agentPort),
            "--admin-token", adminToken, "--refresh-ms", "200",
        ] + (routerArguments.contains("--agent-tls-cert") ? [] : ["--insecure-dev"]) + routerArguments, directory: directory)
        _ = try await settled(members: Set(shardIDs))
    }

    deinit { stopAll() }

    public var baseURL: String { "http://127.0.0.1:\(apiPort)" }
    public var agentURL: String { "ws://127.0.0.1:\(agentPort)/v1/agent/connect" }

    /// Starts one more shard in the cluster. With `waitUntilSettled`, waits until every live
    /// shard (this one included) holds slots and none is unowned.
    @discardableResult
    public func addShard(_ id: String, waitUntilSettled: Bool = true) async throws -> ShardHarness {
        let shard = try await ShardHarness(redis: redis, redisURL: redisURL, shardID: id, leaseTTLMs: leaseTTLMs, extraArguments: shardArguments, waitForReady: false)
        lock.withLock { shards[id] = shard }
        if waitUntilSettled {
            let live = lock.withLock { Set(shards.filter { $0.value.shard.isRunning }.keys) }
            _ = try await settled(members: live)
        }
        return shard
    }

    /// Waits until exactly `members` are live, hold every slot between them, and the router
    /// answers ready; returns the cluster view.
    public func settled(members: Set<String>, timeout: Duration = .seconds(30)) async throws -> ClusterView {
        var view: ClusterView?
        try await eventually(timeout: timeout, "slots split over \(members.sorted())") {
            guard let ready = try? await self.request("GET", "/readyz"), ready.status == 200,
                  let current = try? await self.clusterViewOrNil() else { return false }
            view = current
            // Settled: every slot held by the live member the slot map names (no handoff left).
            return current.unownedSlots.isEmpty && current.movingSlots.isEmpty && Set(current.leases.map(\.holder)) == members
                && Set(current.members.filter(\.live).map(\.id)) == members
        }
        return view!
    }

    private func clusterViewOrNil() async throws -> ClusterView? {
        let response = try await request("GET", "/v1/admin/cluster", token: adminToken)
        return response.status == 200 ? try JSONDecoder().decode(ClusterView.self, from: response.body) : nil
    }

    public func diagnostics() -> String {
        let shardLogs = lock.withLock { shards.sorted { $0.key < $1.key } }.map { "--- \($0.key) log:\n\($0.value.shard.logTail(lines: 25))" }
        return (["--- router log:\n\(router?.logTail(lines: 25) ?? "")"] + shardLogs).joined(separator: "\n")
    }

    public func track(_ agent: FluxProcess, as key: String) { lock.withLock { agents[key] = agent } }

    /// Kills the router, every shard and every agent.
    public func stopAll() {
        let (agents, shards) = lock.withLock { (self.agents, self.shards) }
        for agent in agents.values { agent.kill() }
        router?.kill()
        for shard in shards.values { shard.stopAll() }
    }
}
