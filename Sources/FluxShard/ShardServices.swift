import FluxAPI
import FluxRedis
import FluxIdentity
import FluxRuntime
import FluxTLS
import Foundation
import Prometheus

/// The shard's parts, wired once at start and shared by the HTTP routes, the agent sessions
/// and the background loops. Nothing here is global: tests build as many shards as they like.
///
/// A class, not a struct: every agent session and every request holds it across suspension
/// points, and a struct of this size (the configuration alone has 40-odd fields) was copied into
/// each async frame that did — about 10 KB of task memory per agent session (issue 16,
/// direction 6; docs/performance.md).
final class ShardServices: Sendable {
    let configuration: ShardConfiguration
    let redis: any RedisBackend
    let tasks: TaskStore
    let tenants: TenantStore
    let auth: Authenticator
    let leases: SlotLeases
    let sessions: AgentSessions
    let driver: SchedulerDriver
    let metrics: ShardMetrics
    /// The registry `GET /metrics` renders (this shard's own).
    let metricsRegistry: PrometheusCollectorRegistry
    let membership: Membership
    /// Verifies router-chosen task ids (one per process: it caches the cluster key).
    let signer: TaskIDSigner
    /// The cluster CA, when this shard signs enrolling agents' certificates (`--ca`).
    let ca: ClusterCA?
    /// Revoked certificates, for agents that connect to this shard's TLS listener directly.
    let revocations: RevocationWatcher?
    /// The server-sent event streams this shard serves (at most 1,000 at once; the router's
    /// `--max-event-streams` is the knob operators use, the shard's API is internal).
    let eventStreams = EventStreamGate(limit: 1_000)
    /// Each tenant's turn at writing submissions (`--tenant-writes-in-flight`).
    let writeGate: TenantWriteGate

    init(
        configuration: ShardConfiguration, redis: any RedisBackend, tasks: TaskStore, tenants: TenantStore, auth: Authenticator,
        leases: SlotLeases, sessions: AgentSessions, driver: SchedulerDriver, metrics: ShardMetrics,
        metricsRegistry: PrometheusCollectorRegistry, membership: Membership, signer: TaskIDSigner, ca: ClusterCA?,
        revocations: RevocationWatcher?
    ) {
        self.configuration = configuration
        self.redis = redis
        self.tasks = tasks
        self.tenants = tenants
        self.auth = auth
        self.leases = leases
        self.sessions = sessions
        self.driver = driver
        self.metrics = metrics
        self.metricsRegistry = metricsRegistry
        self.membership = membership
        self.signer = signer
        self.ca = ca
        self.revocations = revocations
        self.writeGate = TenantWriteGate(tasksInFlight: configuration.tenantWritesInFlight)
    }

    var shardID: String { configuration.shardID }

    /// Tenant lifecycle and the audit stream, acting as this shard.
    var tenantAdmin: TenantAdmin { TenantAdmin(tenants: tenants, actor: shardID) }

    /// The submission write path (shared with the router's no-owner path).
    var submissions: SubmissionEndpoint {
        let driver = driver
        let metrics = metrics
        return SubmissionEndpoint(
            tasks: tasks, signer: signer, redisFailed: { driver.redisFailed($0) },
            refused: { tenant, code in metrics.submissionRefused(tenant: tenant, code: code) },
            door: { tenant, leastUrgentClass in driver.degradedRefusal(of: tenant, leastUrgentClass: leastUrgentClass) },
            writeGate: writeGate)
    }
    var heartbeatInterval: Duration { configuration.heartbeatInterval }

    /// Backpressure at the door: 429 `backlog` for a tenant the driver refuses now.
    func refuseIfBacklogged(_ tenant: String) throws {
        guard let refusal = driver.backlogRefusal(of: tenant) else { return }
        metrics.submissionRefused(tenant: tenant, code: "backlog")
        throw refusal
    }

    /// Wall-clock time in Unix milliseconds: the only clock the shard feeds the core.
    func nowMs() -> Int64 { WallClock.nowMs() }

    /// Refuses writes while the scheduler is READ_ONLY (Redis unreachable or operator's choice).
    func requireWritable() throws {
        if driver.isReadOnly {
            throw HTTPProblem.unavailable("read_only", "the scheduler is READ_ONLY; submissions are refused until it recovers")
        }
    }

    /// Runs a Redis-backed operation, mapping Redis failures to `503` (`HTTPProblem.store`); only
    /// a failed connection puts the shard in READ_ONLY.
    func redisCall<T>(_ operation: () async throws -> T) async throws -> T {
        try await HTTPProblem.mappingStoreErrors(onOutage: { driver.redisFailed($0) }, operation)
    }

    /// Refuses with `421 misdirected` when another shard serves the tenant's slot (or nobody
    /// does yet), naming the holder so a client or the router can go there.
    func requireOwner(of tenant: String) async throws {
        let slot = Slotting.slot(forTenant: tenant, slotCount: configuration.slotCount)
        guard !driver.isActive(slot: slot) else { return }
        let holder = try? await redis.send(RedisCommand("GET", SlotKeys(slot: slot).lease)).string
        let owner = holder.flatMap(SlotLeases.parse).map { "shard \($0.holder)" } ?? "no shard yet"
        throw HTTPProblem(.misdirectedRequest, code: "misdirected", message: "tenant \(tenant) (slot \(slot)) is served by \(owner)")
    }
}
