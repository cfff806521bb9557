public import FluxTLS

/// Everything a router process is told at start (flags of `fluxforge router`, docs/runbook.md).
public struct RouterConfiguration: Sendable {
    public var redisURL: String
    public var apiHost: String = "127.0.0.1"
    /// Tenant and admin API (the public entry of the cluster).
    public var apiPort: Int = 7300
    public var agentHost: String = "127.0.0.1"
    /// Agent WebSocket sessions, relayed to the shard that owns the agent's tenant.
    public var agentPort: Int = 7301
    /// Admin bearer token: the same as the shards' (`FLUXFORGE_ADMIN_TOKEN`).
    public var adminToken: String
    /// Slots of the cluster; checked against `ff:cluster` at start.
    public var slotCount: Int = 256
    /// How often the owner table is re-read from Redis when nothing forces it sooner.
    public var refreshInterval: Duration = .milliseconds(500)
    /// A shard whose heartbeat is older than this is not routed to (the shards' member TTL).
    public var memberTTL: Duration = .seconds(5)
    /// How long one API call may spend looking for a shard that answers (421, connection
    /// failures) before the router gives up with 503 — or, for a submission, writes it itself.
    public var retryBudget: Duration = .seconds(3)
    /// A client's API connection idle this long is closed.
    public var httpIdleTimeout: Duration = .seconds(120)
    /// API connections held open at once; beyond it new ones wait in the listen backlog until
    /// one closes (a client cannot exhaust the process's sockets).
    public var httpMaxConnections = 10_000
    /// How long a finished task's record (with its packed timeline) is kept (`--retention-hours`);
    /// routers and shards should agree (docs/redis-schema.md).
    public var retention: Duration = .seconds(24 * 3_600)
    /// `--redis-ack replica`: writes that matter count as done only once this many Redis
    /// replicas have them (`WAIT`, at most `redisAckTimeout`); 0 (`local`): once the master has.
    public var redisAckReplicas = 0
    public var redisAckTimeout: Duration = .seconds(1)
    /// Agent connections held open at once; beyond it new ones wait in the listen backlog.
    public var agentMaxConnections = 50_000
    /// Server-sent event streams served at once (each holds a Redis connection); more answer
    /// `503 too_many_streams`.
    public var maxEventStreams = 1_000
    /// Tasks of one tenant written to Redis at once (`TenantWriteGate`); 0: no limit.
    public var tenantWritesInFlight = 256
    /// Submissions of one tenant waiting for their turn; more answer `429 writes_queued`.
    public var tenantWritesWaiting = 64
    /// Submissions are forwarded to the owning shard, as every other call, instead of written by
    /// the router itself (`--submit-through-shards`; the way before issue 16, kept to measure it).
    public var submitThroughShards = false
    /// One forwarded request's own limit, from connect to the last byte of the answer.
    public var forwardTimeout: Duration = .seconds(15)
    /// TLS on the agent listener (issue 12): with it, agents connect over `wss://` and must
    /// present a certificate of the cluster CA naming them; without it, `ws://` and the agent token.
    public var agentTLS: AgentTLSFiles?
    /// TLS on the tenant and admin API (HTTPS): the router's certificate and key. Nil serves
    /// plain HTTP (bearer tokens and join tokens in the clear).
    public var apiTLS: APITLSFiles?
    /// Agents over plain `ws://` with the tenant's agent token (no `agentTLS`): chosen explicitly,
    /// logged at start and reported by `/readyz`.
    public var insecureDev = false
    /// The SPIFFE trust domain agent certificates must name.
    public var trustDomain = "fluxforge"
    /// How often the router looks for new certificate revocations (with `agentTLS`): a revoked
    /// certificate's live sessions close within about this long.
    public var revocationPollInterval: Duration = .milliseconds(250)
    /// Version reported by `/healthz`.
    public var version = "0.6.0"

    public init(redisURL: String, adminToken: String) {
        self.redisURL = redisURL
        self.adminToken = adminToken
    }
}

