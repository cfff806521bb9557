import CoreMetrics
import Synchronization

/// The shard's metrics, through swift-metrics with whatever factory the process hands in (the
/// shard uses a fresh `PrometheusMetricsFactory` per process; nothing is bootstrapped globally,
/// so tests may run many shards in one process). Names and labels: docs/metrics.md.
///
/// Counters and histograms are updated where things happen (the driver's flush, after Redis
/// holds the outcome). Gauges describing state (queues, domains, mode, sessions) are refreshed
/// by the driver when `/metrics` is scraped, so an idle shard does no metrics work.
final class ShardMetrics: Sendable {
    private let factory: any MetricsFactory
    let mode: Gauge
    let agentsConnected: Gauge
    let quarantinedNodes: Gauge
    let slotsOwned: Gauge
    let heldTasks: Gauge
    /// p99 of how long the shard's posted work waited for the scheduler's turn (last 10 s).
    let shardLag: Gauge
    /// Submission (record `created_ms`) to the first durable DISPATCHED, per task.
    let dispatchLatency: CoreMetrics.Timer
    private let labeled = Mutex<[String: any AnyObject & Sendable]>([:])
    /// Tenants and domains that have gauges now, so vanished ones can be removed.
    private let gaugeKeys = Mutex<(tenants: Set<String>, domains: Set<String>)>(([], []))
    /// Label sets of `flux_desired_nodes` set in the last reconciliation round.
    private let desiredKeys = Mutex<Set<[String]>>([])

    /// Histogram buckets the Prometheus factory should use (label → upper bounds).
    static let durationBuckets: [String: [Duration]] = [
        "flux_dispatch_latency_seconds": [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(300),
        ],
        "flux_reconcile_seconds": [
            .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
            .seconds(300), .seconds(600), .seconds(1_800), .seconds(3_600),
        ],
        "flux_redis_command_duration_seconds": [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1),
        ],
    ]

    init(factory: any MetricsFactory) {
        self.factory = factory
        mode = Gauge(label: "flux_scheduler_mode", factory: factory)
        agentsConnected = Gauge(label: "flux_agents_connected", factory: factory)
        quarantinedNodes = Gauge(label: "flux_quarantined_nodes", factory: factory)
        slotsOwned = Gauge(label: "flux_slots_owned", factory: factory)
        heldTasks = Gauge(label: "flux_scheduler_held_tasks", factory: factory)
        shardLag = Gauge(label: "flux_shard_lag_p99_seconds", factory: factory)
        dispatchLatency = CoreMetrics.Timer(label: "flux_dispatch_latency_seconds", factory: factory)
        mode.record(0)
    }

    /// One admission outcome made durable: `decision` is admitted, rejected, deferred, shed or
    /// deadline_exceeded; `reason` the core's reason code.
    func admission(decision: String, reason: String) {
        counter("flux_admissions_total", [("decision", decision), ("reason", reason)]).increment()
    }

    /// A task reached a terminal state (durably).
    func terminal(state: String) {
        counter("flux_tasks_terminal_total", [("state", state)]).increment()
    }

    /// One Redis round trip of `operation` (`ping`, `transitions`, `node_health`).
    func redisLatency(_ duration: Duration, operation: String) {
        let timer: CoreMetrics.Timer = metric("flux_redis_command_duration_seconds", [("operation", operation)]) {
            CoreMetrics.Timer(label: "flux_redis_command_duration_seconds", dimensions: $0, factory: factory)
        }
        timer.recordNanoseconds(Self.nanoseconds(duration))
    }

    /// Sets the per-tenant queue gauges; tenants not listed lose theirs.
    func queues(_ tenants: [(tenant: String, depth: Int, oldestAgeSeconds: Double)]) {
        let current = Set(tenants.map(\.tenant))
        let gone = gaugeKeys.withLock { keys in
            defer { keys.tenants = current }
            return keys.tenants.subtracting(current)
        }
        for tenant in gone {
            for name in ["flux_queue_depth", "flux_queue_oldest_task_age_seconds"] { removeGauge(name, [("tenant", tenant)]) }
        }
        for entry in tenants {
            gauge("flux_queue_depth", [("tenant", entry.tenant)]).record(entry.depth)
            gauge("flux_queue_oldest_task_age_seconds", [("tenant", entry.tenant)]).record(entry.oldestAgeSeconds)
        }
    }

    /// Sets the per-domain gauges; domains not listed lose theirs.
    func domains(_ domains: [(domain: String, failureRate: Double, throttled: Bool)]) {
        let current = Set(domains.map(\.domain))
        let gone = gaugeKeys.withLock { keys in
            defer { keys.domains = current }
            return keys.domains.subtracting(current)
        }
        for domain in gone {
            for name in ["flux_domain_failure_rate", "flux_domain_throttled"] { removeGauge(name, [("domain", domain)]) }
        }
        for entry in domains {
            gauge("flux_domain_failure_rate", [("domain", entry.domain)]).record(entry.failureRate)
            gauge("flux_domain_throttled", [("domain", entry.domain)]).record(entry.throttled ? 1 : 0)
        }
    }

    /// An agent frame about an attempt its session does not hold was dropped: `unknown_task`,
    /// `other_tenant`, `not_holder` or `bad_task_id`.
    func agentFrameRejected(reason: String) {
        counter("flux_agent_frames_rejected_total", [("reason", reason)]).increment()
    }

    /// An agent session was closed for misbehaving: `frame_flood`, `malformed_frames`,
    /// `outbound_overflow`.
    func agentSessionClosed(reason: String) {
        counter("flux_agent_sessions_closed_total", [("reason", reason)]).increment()
    }

    /// A submission refused at the door: `rate_limited`, `quota_exceeded`, `tenant_suspended`,
    /// `batch_too_large` (a batch counts once).
    func submissionRefused(tenant: String, code: String) {
        counter("flux_submissions_refused_total", [("tenant", tenant), ("code", code)]).increment()
    }

    /// A flush that no replica confirmed in time (`--redis-ack replica`): its dispatches and
    /// answers were held until a replica caught up (or the hold limit made it an outage).
    func replicaHeld() {
        counter("flux_replica_holds_total", []).increment()
    }

    /// A check found a node out of its desired state.
    func driftDetected(tenant: String) {
        counter("flux_drift_detected_total", [("tenant", tenant)]).increment()
    }

    /// A remediation step ended: `applied`, `apply_failed`, `apply_not_run`, `verified` or `verify_deadline`.
    func remediation(outcome: String) {
        counter("flux_remediations_total", [("outcome", outcome)]).increment()
    }

    /// Drift first seen → verified in sync.
    func reconciled(milliseconds: Int64) {
        let timer: CoreMetrics.Timer = metric("flux_reconcile_seconds", []) {
            CoreMetrics.Timer(label: "flux_reconcile_seconds", dimensions: $0, factory: factory)
        }
        timer.recordMilliseconds(milliseconds)
    }

    /// Sets `flux_desired_nodes{tenant,item,state}` for one round; label sets not listed lose theirs.
    func desiredNodes(_ counts: [(tenant: String, item: String, state: String, count: Int)]) {
        let current = Set(counts.map { [$0.tenant, $0.item, $0.state] })
        let gone = desiredKeys.withLock { keys in
            defer { keys = current }
            return keys.subtracting(current)
        }
        for labels in gone { removeGauge("flux_desired_nodes", [("tenant", labels[0]), ("item", labels[1]), ("state", labels[2])]) }
        for entry in counts {
            gauge("flux_desired_nodes", [("tenant", entry.tenant), ("item", entry.item), ("state", entry.state)]).record(entry.count)
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        metric(name, dimensions) { Counter(label: name, dimensions: $0, factory: factory) }
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> Gauge {
        metric(name, dimensions) { Gauge(label: name, dimensions: $0, factory: factory) }
    }

    private func removeGauge(_ name: String, _ dimensions: [(String, String)]) {
        let key = Self.key(name, dimensions)
        (labeled.withLock { $0.removeValue(forKey: key) } as? Gauge)?.destroy()
    }

    /// The cached metric for a name and label set, created on first use.
    private func metric<M: AnyObject & Sendable>(_ name: String, _ dimensions: [(String, String)], make: ([(String, String)]) -> M) -> M {
        let key = Self.key(name, dimensions)
        return labeled.withLock { cache in
            if let existing = cache[key] as? M { return existing }
            let made = make(dimensions)
            cache[key] = made
            return made
        }
    }

    private static func key(_ name: String, _ dimensions: [(String, String)]) -> String {
        dimensions.reduce(name) { $0 + "|" + $1.0 + "=" + $1.1 }
    }
}
