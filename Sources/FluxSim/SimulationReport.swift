import FluxCore

/// The outcome of a run. `text` is deterministic (same configuration ⇒ same bytes); wall-clock
/// figures are deliberately not part of it.
public struct SimulationReport: Sendable {
    /// Wait (submission → first dispatch) percentiles of one priority class, milliseconds.
    public struct WaitStatistics: Hashable, Sendable {
        /// Tasks of the class that were dispatched.
        public var count: Int
        /// Percentiles and maximum.
        public var p50: Int64, p99: Int64, max: Int64
    }

    /// Scheduler events applied (every `handle` call).
    public let events: Int
    /// Task state changes emitted.
    public let transitions: Int
    /// Submissions, and terminal outcomes.
    public let submitted: Int, succeeded: Int, failed: Int, rejected: Int, shed: Int, suspended: Int
    /// Deferrals and retries along the way.
    public let deferred: Int, retries: Int, dispatches: Int
    /// Wait statistics per base class P0...P10.
    public let waits: [WaitStatistics]
    /// Liar nodes, how many were quarantined, and the time to the first and the last of them.
    public let liars: Int, liarsQuarantined: Int
    public let firstLiarQuarantine: Int64?, lastLiarQuarantine: Int64?
    /// Virtual time at the end.
    public let endTime: Int64
    /// The full human-readable report.
    public private(set) var text = ""

    init(configuration c: SimulationConfiguration, stats s: SimulationStats, endTime: Int64, simulator: Simulator) {
        events = s.events
        transitions = s.decisions
        submitted = simulator.submittedAt.count
        (succeeded, failed, rejected, shed, suspended) = (s.succeeded, s.failed, s.rejected, s.shed, s.suspended)
        (deferred, retries, dispatches) = (s.deferred, s.retries, s.dispatches)
        waits = Self.waitStatistics(simulator, tenants: nil)
        liars = c.has(.liars) ? (0..<c.nodes).filter(Simulator.isLiarIndex).count : 0
        let times = s.liarQuarantinedAt.values.sorted()
        liarsQuarantined = times.count
        firstLiarQuarantine = times.first
        lastLiarQuarantine = times.last
        self.endTime = endTime
        var lines = Self.header(c, endTime: endTime)
        lines += Self.outcomes(self, s)
        lines += Self.waitLines(waits)
        if c.has(.flood) { lines += Self.floodLines(simulator) }
        if c.has(.liars) { lines += Self.liarLines(self, s) }
        if c.has(.zoneOutage) { lines += Self.outageLines(s) }
        lines.append("mode changes: " + (s.modeChanges.isEmpty ? "none" : s.modeChanges.joined(separator: "; ")))
        text = lines.joined(separator: "\n") + "\n"
    }

    private static func header(_ c: SimulationConfiguration, endTime: Int64) -> [String] {
        [
            "fluxforge simulate: seed \(c.seed), scenario \(c.scenario.rawValue), \(c.nodes) nodes x \(c.capacityPerNode) slots, "
                + "\(c.tenants) tenants, \(c.tasks) tasks, max waiting \(c.scheduler.maxWaitingTasks)",
            "virtual time: \(Simulator.seconds(endTime))",
        ]
    }

    private static func outcomes(_ r: SimulationReport, _ s: SimulationStats) -> [String] {
        let reasons = s.rejectedByReason.sorted { $0.key.code < $1.key.code }.map { "\($0.key.code)=\($0.value)" }
        return [
            "submitted \(r.submitted): completed \(r.succeeded), failed \(r.failed), rejected \(r.rejected), shed \(r.shed), "
                + "suspended \(r.suspended), deadline exceeded \(s.deadlineExceeded)",
            "rejections by reason: " + (reasons.isEmpty ? "none" : reasons.joined(separator: ", ")),
            "dispatches \(r.dispatches), retries \(r.retries), deferrals \(r.deferred), domain throttles \(s.domainThrottles), "
                + "scheduler events \(r.events), task transitions \(r.transitions)",
        ]
    }

    private static func waitLines(_ waits: [WaitStatistics]) -> [String] {
        ["wait to first dispatch per class (count p50 p99 max):"] + waits.enumerated().map { index, wait in
            "  P\(index): \(wait.count) \(Simulator.seconds(wait.p50)) \(Simulator.seconds(wait.p99)) \(Simulator.seconds(wait.max))"
        }
    }

    private static func floodLines(_ simulator: Simulator) -> [String] {
        let flooder = waitStatistics(simulator, tenants: 0...0)
        let others = waitStatistics(simulator, tenants: 1...Int.max)
        let classes = 5...7
        func line(_ name: String, _ waits: [WaitStatistics]) -> String {
            name + classes.map { "P\($0) p99 \(Simulator.seconds(waits[$0].p99)) (\(waits[$0].count))" }.joined(separator: ", ")
        }
        return ["flood: tenant-0 sent \(simulator.floodSubmitted) extra tasks",
                line("  flooding tenant: ", flooder), line("  other tenants:   ", others)]
    }

    private static func liarLines(_ r: SimulationReport, _ s: SimulationStats) -> [String] {
        let first = r.firstLiarQuarantine.map(Simulator.seconds) ?? "never"
        let last = r.lastLiarQuarantine.map(Simulator.seconds) ?? "never"
        return ["liars: \(r.liarsQuarantined)/\(r.liars) quarantined, first after \(first), last after \(last); "
            + "honest nodes quarantined \(s.honestQuarantines), browned-out nodes quarantined \(s.outageQuarantines)"]
    }

    private static func outageLines(_ s: SimulationStats) -> [String] {
        func share(_ pair: (zone: Int, total: Int)) -> String {
            guard pair.total > 0 else { return "n/a" }
            let permille = pair.zone * 1000 / pair.total
            return "\(permille / 10).\(permille % 10)% of \(pair.total)"
        }
        let throttled = s.outageThrottledAt.map { Simulator.seconds($0 - SimulationConfiguration.outageStart) } ?? "never"
        return [
            "zone outage: zone-\(SimulationConfiguration.outageZone) browned out "
                + "\(Simulator.seconds(SimulationConfiguration.outageStart))-\(Simulator.seconds(SimulationConfiguration.outageEnd)), "
                + "throttled after \(throttled)",
            "  dispatches into it: before outage \(share(s.beforeOutage)), outage before throttle "
                + "\(share(s.outageBeforeThrottle)), outage after throttle \(share(s.outageAfterThrottle))",
        ]
    }

    static func waitStatistics(_ simulator: Simulator, tenants: ClosedRange<Int>?) -> [WaitStatistics] {
        var waits = Array(repeating: [Int64](), count: PriorityClass.count)
        for task in simulator.firstDispatchAt.indices where simulator.firstDispatchAt[task] >= 0 {
            if let tenants, !tenants.contains(Int(simulator.tenantOf[task])) { continue }
            waits[Int(simulator.priority[task])].append(simulator.firstDispatchAt[task] - simulator.submittedAt[task])
        }
        return waits.map { values in
            let sorted = values.sorted()
            func percentile(_ p: Int) -> Int64 { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)] }
            return WaitStatistics(count: sorted.count, p50: percentile(50), p99: percentile(99), max: sorted.last ?? 0)
        }
    }
}
