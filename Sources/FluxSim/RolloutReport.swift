public import FluxCore

/// The deterministic text of a rollout run (`fluxforge simulate --rollout`).
public struct RolloutReport: Sendable {
    public let configuration: RolloutSimulation.Configuration
    public let stats: RolloutStats
    let states: [NodeReconciliation]
    let nodes: Int
    let liars: Int
    let endMs: Int64

    init(configuration: RolloutSimulation.Configuration, stats: RolloutStats, states: [NodeReconciliation], nodes: Int, liars: Int, endMs: Int64) {
        self.configuration = configuration
        self.stats = stats
        self.states = states
        self.nodes = nodes
        self.liars = liars
        self.endMs = endMs
    }

    /// Final count of nodes per state.
    public var finalStates: [ReconcileState: Int] { states.reduce(into: [:]) { $0[$1.state, default: 0] += 1 } }

    public var text: String {
        let c = configuration
        let sorted = stats.reconcileMs.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            return seconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        var lines = [
            "rollout: \(nodes) nodes, \(c.tenants) tenants (one desired state each), \(c.zones) zones, seed \(c.seed)",
            "faults: zone-\(c.outageZone) applies fail \(Int(c.outageFailureRate * 100)) %; \(liars) lying nodes (apply says done, check disagrees)",
            "bounds: maxParallel \(c.maxParallel) per item, maxParallelPerDomain \(c.maxParallelPerDomain), halt after \(c.haltDomainAfterFailures) failures in a zone",
            "peak remediating: \(stats.peakPerItem) per item (bound \(c.maxParallel)), \(stats.peakPerItemZone) per item and zone (bound \(c.maxParallelPerDomain))",
            "drifts detected: \(stats.drifts); applies: \(stats.applies), of which in the failing zone: \(stats.outageApplies)",
            "remediation outcomes: " + stats.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            "failing zone halted after: \(stats.haltedAtMs.map(seconds) ?? "never")",
            "healthy fleet in sync after: \(stats.healthyInSyncAtMs.map(seconds) ?? "not within the horizon")",
            "drift → in sync per node: p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(sorted.last.map(seconds) ?? "-")",
            "final states: " + finalStates.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "),
            "healthy nodes not in sync at the end: " + (stats.healthyNotInSync.isEmpty ? "none"
                : stats.healthyNotInSync.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")),
            "virtual time simulated: \(seconds(endMs))",
        ]
        lines.append("")
        return lines.joined(separator: "\n")
    }

    func seconds(_ milliseconds: Int64) -> String {
        milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000) s" : "\(Double(milliseconds) / 1_000) s"
    }
}
