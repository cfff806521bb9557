/// One load run against a running cluster (flags of `fluxforge bench load`, docs/performance.md).
public struct LoadConfiguration: Sendable {
    /// How submissions are paced.
    public enum Pacing: Sendable, Equatable {
        /// A fixed rate of tasks per second, whatever the cluster answers (latency is measured from
        /// the intended send time, so a slow answer is not hidden: no coordinated omission).
        case open(tasksPerSecond: Int)
        /// `concurrency` requests in flight at all times: the maximum the cluster sustains.
        case closed(concurrency: Int)
    }

    /// The router's tenant API, `http://host:port`.
    public var api: String
    /// The router's agent endpoint, `ws://host:port/v1/agent/connect`.
    public var agentURL: String
    public var adminToken: String
    /// Redis, for the Redis-commands-per-task figure and Redis's own CPU and RSS; optional.
    public var redisURL: String?
    /// Simulated agents (WebSocket sessions through the router), spread over `tenants`.
    public var agents: Int = 1_000
    public var tenants: Int = 4
    /// Attempts one simulated agent runs at once.
    public var agentCapacity: Int = 16
    /// How long a simulated agent "runs" each task before reporting success.
    public var serviceTime: Duration = .zero
    public var pacing: Pacing = .closed(concurrency: 32)
    /// Tasks per HTTP request: 1 uses `POST …/tasks`, more uses `POST …/tasks:batch`.
    public var batchSize: Int = 1
    public var duration: Duration = .seconds(20)
    /// After submissions stop, how long to wait for accepted tasks to finish.
    public var drainTimeout: Duration = .seconds(60)
    /// Mutual TLS for the simulated agents: each gets its own certificate, minted from this CA
    /// (`agentURL` is then `wss://`). Nil: plain `ws://` with the tenants' agent tokens.
    public var agentCertificates: AgentCertificates?
    /// Other processes to report CPU and RSS for, by name (router, shard-1, …).
    public var processes: [String: Int32] = [:]
    /// How long to wait after the last task finished before Redis's memory is read: a finished
    /// task's timeline stream outlives its packing by a minute, so Redis bytes per task over
    /// the retention are only seen after that (0: read at once).
    public var memorySettle: Duration = .zero

    public init(api: String, agentURL: String, adminToken: String) {
        self.api = api
        self.agentURL = agentURL
        self.adminToken = adminToken
    }
}
