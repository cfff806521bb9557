/// Everything one agent process needs to know, fixed at start. The agent keeps no other state on
/// disk: a restarted agent is a new agent that happens to carry the same node name.
public struct AgentConfiguration: Sendable {
    /// Session endpoint, `ws://HOST:PORT/v1/agent/connect` (the router's agent port; a shard's in
    /// tests). Reconnects always go back to this URL: landing on the right shard is the router's job.
    public var url: String
    /// Tenant the node serves; with `node`, the identity the shard keys the session by.
    public var tenant: String
    /// Node name, unique within the tenant; exported to commands as `FLUX_NODE`.
    public var node: String
    /// Failure domains: the scheduler isolates failures per zone and per rack.
    public var zone: String
    /// Rack within the zone (second failure-domain level).
    public var rack: String
    /// Labels tasks select nodes by (`selector`).
    public var labels: [String: String]
    /// How many attempts may run at once; a dispatch beyond it is answered `rejected no_capacity`.
    public var capacity: Int
    /// Dev-mode credential sent in `hello`. Insecure: anyone who reads it can act as this node.
    public var token: String
    /// Programs this node agrees to run; `nil` runs anything. An entry and a dispatched `argv[0]`
    /// match when both resolve to the same executable file (`ProgramResolver`).
    public var allowedCommands: Set<String>?
    /// Whether a dispatch may set `PATH` or `LD_*` variables (refused by default: they change
    /// which code runs, whatever the allow-list says).
    public var allowEnvironmentOverrides: Bool
    /// How `argv[0]` is resolved for the allow-list (injected so the state machine stays testable).
    public var resolveProgram: @Sendable (String) -> String?
    /// Bytes of merged stdout+stderr kept per attempt: only the last `outputTailBytes` survive.
    public var outputTailBytes: Int
    /// Period of `health` reports while a session is up, unless the shard's `welcome` names one.
    public var healthInterval: Duration
    /// First reconnect delay, and the delay after a session that lasted.
    public var reconnectMinimum: Duration
    /// Ceiling of the exponential reconnect delay.
    public var reconnectMaximum: Duration
    /// A session that stayed up at least this long resets the reconnect backoff.
    public var stableSessionDuration: Duration
    /// On shutdown, how long running attempts may take to finish before they are killed.
    public var shutdownGracePeriod: Duration
    /// On shutdown, once nothing runs, how long to wait for the acks of pending results.
    public var resultFlushTimeout: Duration
    /// Test hook: when set, every `health` reports this self-score instead of the measured one,
    /// so a fault test can play an agent that claims to be healthy while its jobs fail.
    public var chaosSelfScore: Double?
    /// Version string reported in `hello`.
    public var version: String
    /// The enrolled identity (`agent.key`, `agent.crt`, `ca.crt`) for a `wss://` session with a
    /// client certificate; nil for `ws://` with the token (dev mode).
    public var identity: AgentEnrollment.Files?
    /// The name the router's certificate must carry, sent as TLS SNI; nil uses the URL's host
    /// (which must then be a DNS name: TLS cannot send an IP address as SNI).
    public var tlsServerName: String?

    /// Defaults suit a small edge node; `capacity` ≥ 1 and 0 < min ≤ max backoff are enforced.
    public init(
        url: String, tenant: String, node: String, zone: String, rack: String,
        labels: [String: String] = [:], capacity: Int = 4, token: String,
        allowedCommands: Set<String>? = nil, outputTailBytes: Int = 4096,
        healthInterval: Duration = .seconds(5),
        reconnectMinimum: Duration = .milliseconds(100), reconnectMaximum: Duration = .seconds(5),
        stableSessionDuration: Duration = .seconds(10), shutdownGracePeriod: Duration = .seconds(30),
        resultFlushTimeout: Duration = .seconds(3), chaosSelfScore: Double? = nil, version: String = AgentConfiguration.agentVersion,
        allowEnvironmentOverrides: Bool = false,
        resolveProgram: @escaping @Sendable (String) -> String? = { ProgramResolver.resolve($0) }
    ) {
        precondition(capacity >= 1, "capacity must be at least 1")
        precondition(outputTailBytes >= 0, "outputTailBytes must not be negative")
        precondition(reconnectMinimum > .zero && reconnectMinimum <= reconnectMaximum, "bad reconnect bounds")
        self.url = url
        self.tenant = tenant
        self.node = node
        self.zone = zone
        self.rack = rack
        self.labels = labels
        self.capacity = capacity
        self.token = token
        self.allowedCommands = allowedCommands
        self.outputTailBytes = outputTailBytes
        self.healthInterval = healthInterval
        self.reconnectMinimum = reconnectMinimum
        self.reconnectMaximum = reconnectMaximum
        self.stableSessionDuration = stableSessionDuration
        self.shutdownGracePeriod = shutdownGracePeriod
        self.resultFlushTimeout = resultFlushTimeout
        self.chaosSelfScore = chaosSelfScore
        self.version = version
        self.allowEnvironmentOverrides = allowEnvironmentOverrides
        self.resolveProgram = resolveProgram
    }

    /// The agent's protocol/software version, reported in `hello`.
    public static let agentVersion = "fluxforge-agent/0.1"
}
