public import FluxAPI
public import FluxRedis
public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real shard process on loopback over an isolated Redis database, with helpers to create
/// tenants, start real agent processes and call the HTTP API. Integration tests build on it.
public final class ShardHarness: @unchecked Sendable {
    public let redis: RedisConfiguration
    public let apiPort: Int
    public let agentPort: Int
    public let adminToken = "test-admin-token"
    public let directory: URL
    public private(set) var shard: FluxProcess!
    public private(set) var agents: [String: FluxProcess] = [:]
    private let shardArguments: [String]

    /// Starts a shard against `redis` (an isolated test database by default) and waits until
    /// it is ready. `extraArguments` go to `fluxforge shard` (after the defaults, so they win).
    ///
    /// The default Redis-latency threshold for DEGRADED is raised to 2 s: the suite shares two
    /// loaded cores, where a 100 ms p99 would flip unrelated tests into DEGRADED at random.
    /// `shardID` and `leaseTTLMs` let several harnesses form one cluster over the same database.
    public init(
        redis: RedisConfiguration? = nil, shardID: String = "shard-it", leaseTTLMs: Int = 3_000,
        extraArguments: [String] = [], waitForReady: Bool = true
    ) async throws {
        if let redis {
            self.redis = redis
        } else {
            self.redis = try await TestDatabase.isolated()
        }
        apiPort = try RedisServerProcess.freeLoopbackPort()
        agentPort = try RedisServerProcess.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        shardArguments = [
            "shard", "--id", shardID, "--redis", TestDatabase.url(of: self.redis),
            "--api-port", String(apiPort), "--agent-port", String(agentPort), "--admin-token", adminToken,
            "--heartbeat-ms", "500", "--lease-ttl-ms", String(leaseTTLMs), "--redis-latency-degrade-ms", "2000",
        ] + extraArguments
        shard = try FluxProcess(name: shardID, arguments: shardArguments, directory: directory)
        if waitForReady { try await waitUntilReady() }
    }

    deinit { stopAll() }

    public var baseURL: String { "http://127.0.0.1:\(apiPort)" }
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
            if let response = try? await request("GET", "/readyz"), response.status == 200 { return }
            guard shard.isRunning else { throw HarnessError("shard exited:\n\(shard.logTail())") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("shard not ready within \(timeout):\n\(shard.logTail())")
    }

    /// Creates a tenant; returns its API and agent tokens.
    public func createTenant(_ name: String, settings: TenantSettings = TenantSettings()) async throws -> (token: String, agentToken: String) {
        let response = try await request("PUT", "/v1/admin/tenants/\(name)", token: adminToken, json: settings)
        guard response.status == 201, let created = try? JSONDecoder().decode(TenantCreated.self, from: response.body),
              let token = created.token, let agentToken = created.agentToken
        else { throw HarnessError("tenant creation answered \(response.status): \(response.text)") }
        return (token, agentToken)
    }

    /// Starts a real agent process for `tenant` and waits until the shard lists its node.
    @discardableResult
    public func startAgent(
        tenant: String, token: String, agentToken: String, node: String, zone: String = "zone-a",
        rack: String = "rack-1", capacity: Int = 4, extraArguments: [String] = []
    ) async throws -> FluxProcess {
        let arguments = [
            "agent", "--url", agentURL, "--tenant", tenant, "--node", node, "--zone", zone, "--rack", rack,
            "--capacity", String(capacity), "--reconnect-min-ms", "50", "--reconnect-max-ms", "500",
        ] + extraArguments
        let agent = try FluxProcess(name: "agent-\(node)", arguments: arguments, environment: ["FLUXFORGE_AGENT_TOKEN": agentToken], directory: directory)
        agents[node] = agent
        try await waitForNode(tenant: tenant, token: token, node: node, connected: true)
        return agent
    }

    /// Waits until `node` is (or is no longer) listed as connected.
    public func waitForNode(tenant: String, token: String, node: String, connected: Bool, timeout: Duration = .seconds(20)) async throws {
        try await eventually(timeout: timeout, "node \(node) connected=\(connected)") {
            let response = try await self.request("GET", "/v1/tenants/\(tenant)/nodes", token: token)
            let nodes = (try? JSONDecoder().decode(NodeList.self, from: response.body))?.nodes ?? []
            return nodes.contains { $0.node == node && $0.connected } == connected
        }
    }

    /// Submits a task and returns its id (fails unless the answer is 202).
    public func submit(tenant: String, token: String, _ submission: TaskSubmission) async throws -> String {
        let response = try await request("POST", "/v1/tenants/\(tenant)/tasks", token: token, json: submission)
        guard response.status == 202, let accepted = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body) else {
            throw HarnessError("submission answered \(response.status): \(response.text)")
        }
        return accepted.id
    }

    /// Reads a task (nil on 404).
    public func task(tenant: String, token: String, id: String) async throws -> TaskView? {
        let response = try await request("GET", "/v1/tenants/\(tenant)/tasks/\(id)", token: token)
        return response.status == 200 ? try JSONDecoder().decode(TaskView.self, from: response.body) : nil
    }

    /// The task's timeline, oldest first.
    public func timeline(tenant: String, token: String, id: String) async throws -> [TimelineEntry] {
        let response = try await request("GET", "/v1/tenants/\(tenant)/tasks/\(id)/timeline", token: token)
        return (try? JSONDecoder().decode(TimelinePage.self, from: response.body))?.entries ?? []
    }

    /// Polls until the task is in one of `states`; returns it.
    public func waitForState(tenant: String, token: String, id: String, _ states: Set<String>, timeout: Duration = .seconds(30)) async throws -> TaskView {
        var last: TaskView?
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            last = try? await task(tenant: tenant, token: token, id: id)
            if let last, states.contains(last.state) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("task \(id) not in \(states.sorted()) within \(timeout); last state \(last?.state ?? "none")\n--- shard log:\n\(shard.logTail())")
    }

    /// Polls `condition` until true (bounded).
    public func eventually(timeout: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("timed out waiting for \(what)\n--- shard log:\n\(shard.logTail())")
    }

    /// Kills every process the harness started and removes its files.
    public func stopAll() {
        for agent in agents.values { agent.kill() }
        shard?.kill()
    }
}
