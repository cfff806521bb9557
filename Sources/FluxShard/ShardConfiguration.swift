public import FluxCore
public import FluxTLS

/// Everything a shard process is told at start (flags of `fluxforge shard`, docs/runbook.md).
public struct ShardConfiguration: Sendable {
    /// Stable name of this shard; it is the lease holder and the ingest consumer name, so a
    /// restarted shard with the same id picks up its own pending ingest entries.
    public var shardID: String
    public var redisURL: String
    public var apiHost: String = "127.0.0.1"
    public var apiPort: Int = 7400
    public var agentHost: String = "127.0.0.1"
    public var agentPort: Int = 7401
    /// Host the router and other shards reach this shard at, published in `ff:member:<id>`
    /// (a pod IP or service name when listening on 0.0.0.0); nil publishes `apiHost`/`agentHost`.
    public var advertiseHost: String?
    /// Admin bearer token (required; `FLUXFORGE_ADMIN_TOKEN`).
    public var adminToken: String
    /// Slots of the cluster (written once in `ff:cluster`).
    public var slotCount: Int = 256
    /// Slot lease TTL; renewed every third of it.
    public var leaseTTL: Duration = .seconds(10)
    /// A member whose heartbeat is older than this is dead (docs/architecture.md).
    public var memberTTL: Duration = .seconds(5)
    /// How often the shard heartbeats into `ff:members`.
    public var memberHeartbeatInterval: Duration = .seconds(1)
    /// Reported in `ff:member:<id>`.
    public var version = "0.5.0"
    /// Ping interval of agent sessions; the round trip feeds the health probe.
    public var heartbeatInterval: Duration = .seconds(2)
    /// How often the scheduler is ticked when nothing else happens.
    public var tickInterval: Duration = .milliseconds(20)
    /// How often the reconciler walks the desired states of the shard's slots
    /// (docs/reconciliation.md); checks fall due on whole seconds, so twice a second is enough.
    public var reconcileInterval: Duration = .milliseconds(500)
    /// How often the shard looks for tenants being deleted in its slots (`ff:deleting`); a
    /// deletion takes two rounds (sessions closed, then keys removed).
    public var tenantSweepInterval: Duration = .seconds(2)
    /// Most ingest entries read from one slot's stream at a time (`--ingest-batch`). What is
    /// read is admitted at most `DriverLoop.admissionsPerTenantPerTurn` of a tenant a turn
    /// (`FairIntake`), so a large read does not make a flood's turn long; it lets the shard read
    /// past a flood's entries to another tenant's in the same stream (docs/performance.md).
    public var ingestBatch: Int = 512
    /// Tasks of one tenant this shard's submit endpoint writes to Redis at once
    /// (`TenantWriteGate`); 0: no limit.
    public var tenantWritesInFlight = 256
    /// Redis command latency p99 above which the scheduler goes DEGRADED (back below half of
    /// it); the core's default is 100 ms (docs/scheduler-design.md §9).
    public var degradeAboveRedisLatency: Duration = .milliseconds(100)
    /// The shard's own lag p99 (how long posted work waits for the scheduler's turn) above
    /// which it goes DEGRADED `overload_shard` (back below half of it).
    public var degradeAboveShardLag: Duration = .milliseconds(500)
    /// Backpressure at the door: once the waiting tasks would take longer than this to drain at
    /// the recent dispatch rate, submissions of tenants at or over their share of them are
    /// refused (429 `backlog`), here and at routers (`--max-backlog-ms`; zero: never).
    public var maxBacklog: Duration = .seconds(30)
    /// Observed failure rates of nodes and failure domains fade by ×0.8 per this interval when no
    /// new outcomes arrive, which is how a quarantined node or throttled domain recovers (core
    /// default 10 s; docs/scheduler-design.md).
    public var failureFadeInterval: Duration = .seconds(10)
    /// A node record (`ff:{sN}:t:<tenant>:node:<node>`) expires this long after its node was last
    /// seen; the tenant's node index with it once no node of the tenant is left.
    public var nodeRecordTTL: Duration = .seconds(7 * 86_400)
    /// An API connection idle this long is closed (above async-http-client's 60 s pool idle
    /// time, so the router's pooled connections are closed by the router first).
    public var httpIdleTimeout: Duration = .seconds(120)
    /// API connections held open at once; beyond it new ones wait in the listen backlog.
    public var httpMaxConnections = 10_000
    /// How long a finished task's record (with its packed timeline) is kept (`--retention-hours`);
    /// routers and shards should agree (docs/redis-schema.md).
    public var retention: Duration = .seconds(24 * 3_600)
    /// `--redis-ack replica`: writes that matter count as done only once this many Redis
    /// replicas have them (`WAIT`, at most `redisAckTimeout`); 0 (`local`): once the master has.
    public var redisAckReplicas = 0
    public var redisAckTimeout: Duration = .seconds(1)
    /// Agent connections held open at once (each is a socket and a session); beyond it new ones
    /// wait in the listen backlog. Above the 10,000 agents one shard is measured with.
    public var agentMaxConnections = 50_000
    /// The cluster CA's directory (`--ca DIR`: `ca.crt` and `ca.key`, from `fluxforge ca init`):
    /// this shard signs the certificates of agents that enroll in its slots. Nil turns
    /// enrollment off (`503 enrollment_disabled`).
    public var caDirectory: String?
    /// The SPIFFE trust domain agent certificates name (`spiffe://<this>/tenant/…/node/…`).
    public var trustDomain = "fluxforge"
    /// How long an agent certificate is valid from enrollment.
    public var agentCertificateValidity: Duration = .seconds(86_400)
    /// An agent connection that has not said a valid `hello` by then is closed (`hello_timeout`).
    public var agentHelloTimeout: Duration = .seconds(10)
    /// Frames per second one agent session may send (sustained over each second); beyond it the
    /// session is closed (`frame_flood`): a real agent sends a few per task and per heartbeat.
    public var agentFramesPerSecond: Int = 1_000
    /// How often node health is written to Redis at most (quarantine changes go at once).
    public var nodeHealthWriteInterval: Duration = .seconds(1)

    /// The tenant API as published for the router in `ff:member:<id>`: `host:port` (plain
    /// HTTP), or `https://host:port` when it takes mutual TLS (routers then call with their
    /// certificate).
    public var advertisedAPI: String { (apiMutualTLS ? "https://" : "") + "\(advertiseHost ?? apiHost):\(apiPort)" }
    /// The tenant API over mutual TLS with the agent listener's certificate and CA (`--api-mtls`):
    /// only clients with a certificate of the cluster CA (routers, operators given one) are
    /// served, so tenant tokens and task bodies cross the router→shard hop encrypted.
    public var apiMutualTLS = false
    /// A plain-HTTP port serving only `/healthz`, `/readyz` and `/metrics` (`--ops-port`), for
    /// probes and scrapers that hold no client certificate. Nil: no such port.
    public var opsPort: Int?
    /// `host:port` of the agent gateway as published for the router.
    /// Published in `ff:member:<id>`: `host:port`, or `wss://host:port` when the agent listener
    /// is TLS (routers then connect with their certificate).
    public var advertisedAgent: String { (agentTLS == nil ? "" : "wss://") + "\(advertiseHost ?? agentHost):\(agentPort)" }
    /// TLS on the agent listener (issue 12): the shard's certificate and key and the cluster CA.
    /// Peers must present a certificate: a router's (which vouches for the agents it relays) or
    /// an agent's own. Nil: plain `ws://`, agent tokens and attestations (dev mode).
    public var agentTLS: AgentTLSFiles?
    /// Agents over plain `ws://` with the tenant's agent token (no `agentTLS`): chosen explicitly,
    /// logged at start and reported by `/readyz`.
    public var insecureDev = false
    /// How agents authenticate here, as `/readyz` reports it.
    public var agentAuthentication: String { agentTLS != nil ? "mtls" : "insecure-dev" }

    /// Most tasks waiting for a node at once (ADMITTED, not yet dispatched); a newcomer beyond it
    /// sheds a task, tenant-fairly (docs/scheduler-design.md).
    public var maxWaitingTasks = SchedulerConfiguration().maxWaitingTasks

    /// The scheduling core's configuration: its defaults, with this shard's thresholds.
    public var scheduler: SchedulerConfiguration {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = maxWaitingTasks
        configuration.degradeAboveRedisLatency = degradeAboveRedisLatency
        configuration.recoverBelowRedisLatency = degradeAboveRedisLatency / 2
        configuration.degradeAboveShardLag = degradeAboveShardLag
        configuration.health.failureRateDecayInterval = failureFadeInterval
        configuration.domains.decayInterval = failureFadeInterval
        return configuration
    }

    public init(shardID: String, redisURL: String, adminToken: String) {
        self.shardID = shardID
        self.redisURL = redisURL
        self.adminToken = adminToken
    }
}
