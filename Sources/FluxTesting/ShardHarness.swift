public import FluxAPI
public import FluxRedis
public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real shard process on loopback over an isolated Redis database, with helpers to create
/// tenants, start real agent processes and call the HTTP API. Integration tests build on it.
public final class ShardHarness: FluxEndpoint, @unchecked Sendable {
    public let redis: RedisConfiguration
    public let apiPort: Int
    public let agentPort: Int
    /// The plain health/metrics port, given when the API takes mutual TLS (`--api-mtls`): the
    /// harness holds no client certificate, so it watches readiness there.
    public let opsPort: Int?
    public let adminToken = "test-admin-token"
    public let directory: URL
    public private(set) var shard: FluxProcess!
    public private(set) var agents: [String: FluxProcess] = [:]
    /// The agent process of `tenant`'s node `node`, if the harness started it.
    public func agent(_ tenant: String, _ node: String) -> FluxProcess? { agents[tenant + "/" + node] }
    private let shardArguments: [String]

    /// Starts a shard against `redis` (an isolated test database by default) and waits until
    /// it is ready. `extraArguments` go to `fluxforge shard` (after the defaults, so they win).
    ///
    /// The default Redis-latency threshold for DEGRADED is raised to 2 s, and the shard-lag one
    /// to 5 s: the suite shares two loaded cores, where a 100 ms Redis p99 or a 500 ms lag would
    /// flip unrelated tests into DEGRADED at random.
    /// `shardID` and `leaseTTLMs` let several harnesses form one cluster over the same database.
    /// `redisURL` is what the shard is given as `--redis` when `redis` alone cannot say it (a
    /// `redis-cluster://` URL; `redis` is then one of its nodes, for the test's own reads).
    public init(
        redis: RedisConfiguration? = nil, redisURL: String? = nil, shardID: String = "shard-it", leaseTTLMs: Int = 3_000,
        extraArguments: [String] = [], waitForReady: Bool = true
    ) async throws {
        if let redis {
            self.redis = redis
        } else {
            self.redis = try await TestDatabase.isolated()
        }
        apiPort = try RedisServerProcess.freeLoopbackPort()
        agentPort = try RedisServerProcess.freeLoopbackPort()
        opsPort = extraArguments.contains("--api-mtls") ? try RedisServerProcess.freeLoopbackPort() : nil
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        shardArguments = [
            "shard", "--id", shardID, "--redis", redisURL ?? TestDatabase.url(of: self.redis),
            "--api-port", String(apiPort), "--agent-port", String(agentPort), "--admin-token", adminToken,
            "--heartbeat-ms", "500", "--lease-ttl-ms", String(leaseTTLMs), "--redis-latency-degrade-ms", "2000", "--shard-lag-degrade-ms", "5000",
        ] + (extraArguments.contains("--agent-tls-cert") ? [] : ["--insecure-dev"])
            + (opsPort.map { ["--ops-port", String($0)] } ?? []) + extraArguments
        shard = try FluxProcess(name: shardID, arguments: shardArguments, directory: directory)
        if waitForReady { try await waitUntilReady() }
    }

    deinit { stopAll() }

    public var baseURL: String { "\(opsPort == nil ? "http" : "https")://127.0.0.1:\(apiPort)" }
    /// The plain health/metrics listener (`--ops-port`), if any.
    public var opsURL: String? { opsPort.map { "http://127.0.0.1:\($0)" } }
    public var agentURL: String { "ws://127.0.0.1:\(agentPort)/v1/agent/connect" }

    /// Restarts the shard process (after `shard.kill()`), and waits until it is ready.
    public func restartShard() async throws {
        try shard.start()
        try await waitUntilReady()
    }

    /// Polls `/readyz` until it answers 200 (bounded).
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let readiness = opsURL.map { $0 + "/readyz" } ?? baseURL + "/readyz"
            if let response = try? await httpRequest("GET", readiness), response.status == 200 { return }
            guard shard.isRunning else { throw HarnessError("shard exited:\n\(shard.logTail())") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("shard not ready within \(timeout):\n\(shard.logTail())")
    }

    /// The shard's log, for failure messages.
    public func diagnostics() -> String { "--- shard log:\n\(shard.logTail())" }

    /// Remembers an agent so `stopAll` kills it.
    public func track(_ agent: FluxProcess, as key: String) { agents[key] = agent }

    /// Kills every process the harness started and removes its files.
    public func stopAll() {
        for agent in agents.values { agent.kill() }
        shard?.kill()
    }
}
