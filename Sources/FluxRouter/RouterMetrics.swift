import FluxRuntime
import Prometheus

/// The router's own Prometheus metrics (docs/metrics.md): what it forwarded, how often it had to
/// try again, how many submissions it wrote itself, and the relayed agent sessions.
final class RouterMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let agentSessions: Gauge
    private let ownedSlots: Gauge
    private let unownedSlots: Gauge
    private let eventStreams: Gauge
    /// The event streams this router serves (read when metrics are rendered).
    let eventStreamGate: EventStreamGate

    init(eventStreamGate: EventStreamGate) {
        self.eventStreamGate = eventStreamGate
        eventStreams = registry.makeGauge(name: "flux_router_event_streams", labels: [])
        agentSessions = registry.makeGauge(name: "flux_router_agent_sessions", labels: [])
        ownedSlots = registry.makeGauge(name: "flux_router_owned_slots", labels: [])
        unownedSlots = registry.makeGauge(name: "flux_router_unowned_slots", labels: [])
    }

    /// A shard's answer passed back to the client, by status class (`2xx`, `4xx`, …).
    func forwarded(status: Int) {
        registry.makeCounter(name: "flux_router_forwarded_total", labels: [("status", "\(status / 100)xx")]).increment()
    }

    /// A try that produced no answer to pass on, by why (`no_owner`, `misdirected`, `not_sent`, `maybe_sent`).
    func failedTry(_ failure: ForwardPolicy.Failure) {
        let reason = switch failure {
        case .noOwner: "no_owner"
        case .misdirected: "misdirected"
        case .notSent: "not_sent"
        case .maybeSent: "maybe_sent"
        }
        registry.makeCounter(name: "flux_router_failed_tries_total", labels: [("reason", reason)]).increment()
    }

    /// A submission the router wrote to Redis itself (no reachable owner).
    func wroteDirectly() {
        registry.makeCounter(name: "flux_router_direct_submissions_total", labels: []).increment()
    }

    /// A call the router gave up on (`no_owner` 503, `upstream_failed` 502).
    func gaveUp(_ code: String) {
        registry.makeCounter(name: "flux_router_gave_up_total", labels: [("code", code)]).increment()
    }

    /// A submission answered from the refusal cache (`RefusalCache`): refused without a script.
    func refusalRemembered() {
        registry.makeCounter(name: "flux_router_remembered_refusals_total", labels: []).increment()
    }

    /// A submission the router wrote itself and the door refused (see the shard's metric of the
    /// same name for those it forwarded).
    func submissionRefused(tenant: String, code: String) {
        registry.makeCounter(name: "flux_submissions_refused_total", labels: [("tenant", tenant), ("code", code)]).increment()
    }

    func agentSessionOpened() { agentSessions.increment() }
    func agentSessionClosed() { agentSessions.decrement() }
    /// An agent whose `hello` named another tenant or node than its certificate.
    func agentIdentityMismatch() { registry.makeCounter(name: "flux_agent_identity_mismatch_total").increment() }
    /// A session refused at hello, or closed while it lasted, because its certificate was revoked.
    func agentCertificateRevoked() { registry.makeCounter(name: "flux_agent_sessions_revoked_total").increment() }
    /// Slots with and without a live owner in the router's table; the cluster's slot count is
    /// not fixed at 256, so alerts read the unowned ones instead of comparing against it.
    func table(_ table: OwnerTable) {
        ownedSlots.set(Double(table.ownedSlotCount))
        unownedSlots.set(Double(table.slotCount - table.ownedSlotCount))
        eventStreams.set(Double(eventStreamGate.count))
    }
}
