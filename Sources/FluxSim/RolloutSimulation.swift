public import FluxCore

/// A fleet-wide change driven through the reconciliation planner in virtual time: every node of
/// every tenant must move to a new version, one zone's applies mostly fail for the whole run, and
/// some nodes lie (their apply reports success, their check keeps failing).
///
/// Agents and the task path are modelled (each check or apply finishes after a seeded duration
/// with the result the node's state dictates); the planner is the production one. The report
/// shows that remediation stays within `maxParallel` and `maxParallelPerDomain`, that the
/// failing zone halts instead of spreading damage, and how long the healthy fleet takes to be in
/// sync. Same seed ⇒ same report.
public struct RolloutSimulation {
    public struct Configuration: Sendable {
        public var nodes: Int
        public var tenants: Int
        public var seed: UInt64
        public var zones = 5
        /// Applies in this zone fail with `outageFailureRate`.
        public var outageZone = 2
        public var outageFailureRate = 0.9
        /// Fraction of nodes whose apply lies.
        public var liarRate = 0.01
        public var maxParallel = 100
        public var maxParallelPerDomain = 30
        public var haltDomainAfterFailures = 5
        /// Virtual time allowed before the report is written.
        public var horizonMs: Int64 = 3_600_000
        /// How long to go on once the healthy fleet is in sync (the liars' retries play out).
        public var tailAfterSyncMs: Int64 = 600_000

        public init(nodes: Int, tenants: Int, seed: UInt64) {
            self.nodes = max(1, nodes)
            self.tenants = max(1, min(tenants, nodes))
            self.seed = seed
        }
    }

    struct Node {
        var id: String
        var zone: String
        var tenant: Int
        var current: Bool
        var liar: Bool
        var outage: Bool
    }

    struct Pending {
        var tenant: Int
        var node: Int
        var kind: ReconcileWork.Kind
        var doneAtMs: Int64
    }

    let configuration: Configuration
    var nodes: [Node] = []
    var nodeIndex: [String: Int] = [:]
    var states: [[String: NodeReconciliation]]
    var results: [[String: ReconcileTaskResult]]
    var pending: [String: Pending] = [:]
    var random: SplitMix64
    var stats = RolloutStats()

    public init(configuration: Configuration) {
        self.configuration = configuration
        random = SplitMix64(seed: configuration.seed)
        states = Array(repeating: [:], count: configuration.tenants)
        results = Array(repeating: [:], count: configuration.tenants)
        for index in 0..<configuration.nodes {
            // Tenants round-robin, zones round-robin within each tenant: every tenant spans every zone.
            let zone = (index / configuration.tenants) % configuration.zones
            let node = Node(
                id: "n\(index)", zone: "zone-\(zone)", tenant: index % configuration.tenants, current: false,
                liar: random.nextUnitDouble() < configuration.liarRate, outage: zone == configuration.outageZone)
            nodeIndex[node.id] = index
            nodes.append(node)
        }
    }

    var policy: ReconcilePolicy {
        ReconcilePolicy(
            generation: 1, intervalMs: 60_000, verifyDeadlineMs: 120_000, verifyEveryMs: 10_000,
            maxParallel: configuration.maxParallel, maxParallelPerDomain: configuration.maxParallelPerDomain,
            haltDomainAfterFailures: configuration.haltDomainAfterFailures,
            retry: BackoffPolicy(kind: .exponential, baseDelay: .seconds(30), maxDelay: .seconds(600), maxAttempts: 3, jitter: 0.1))
    }

    /// Runs one reconciliation round per virtual second until ten minutes after the healthy
    /// fleet is in sync, or the horizon passes.
    public mutating func run() -> RolloutReport {
        let fleets = (0..<configuration.tenants).map { tenant in
            nodes.filter { $0.tenant == tenant }.map { ReconcileNode(id: $0.id, zone: $0.zone, available: true) }
        }
        var nowMs: Int64 = 0
        while nowMs <= configuration.horizonMs {
            complete(upTo: nowMs)
            for tenant in 0..<configuration.tenants { step(tenant, fleet: fleets[tenant], nowMs: nowMs) }
            observe(nowMs: nowMs)
            // Ten more minutes after the healthy fleet is in sync: the liars' retries play out.
            if let synced = stats.healthyInSyncAtMs, nowMs >= synced + configuration.tailAfterSyncMs { break }
            nowMs += 1_000
        }
        var stragglers: [String: Int] = [:]
        for node in nodes where !node.outage && !node.liar {
            guard let record = states[node.tenant][node.id], !Self.isInSync(record) else { continue }
            stragglers["\(record.state.rawValue)/\(record.reason.rawValue)", default: 0] += 1
        }
        stats.healthyNotInSync = stragglers
        return RolloutReport(configuration: configuration, stats: stats, states: states.flatMap(\.values), nodes: nodes.count,
                             liars: nodes.filter(\.liar).count, endMs: nowMs)
    }

    mutating func step(_ tenant: Int, fleet: [ReconcileNode], nowMs: Int64) {
        let plan = ReconcilePlanner.plan(
            policy: policy, nodes: fleet, states: states[tenant], results: results[tenant], nowMs: nowMs,
            name: { "\($0.kind.rawValue)-\($0.node)-\($0.sequence)" })
        states[tenant] = plan.states
        for (work, taskID) in plan.submissions {
            let duration: Int64 = work.kind == .check ? 200 + Int64(random.next() % 800) : 5_000 + Int64(random.next() % 25_000)
            pending[taskID] = Pending(tenant: tenant, node: nodeIndex[work.node] ?? 0, kind: work.kind, doneAtMs: nowMs + duration)
            results[tenant][taskID] = .pending
            if work.kind == .apply {
                stats.applies += 1
                if nodes[nodeIndex[work.node] ?? 0].outage { stats.outageApplies += 1 }
            }
        }
        for event in plan.events {
            switch event {
            case .driftDetected: stats.drifts += 1
            case .remediation(_, let outcome): stats.outcomes[outcome, default: 0] += 1
            case .reconciled(_, let milliseconds): stats.reconcileMs.append(milliseconds)
            }
        }
    }

    /// Finishes the tasks due by `nowMs` with the result the node's state dictates.
    mutating func complete(upTo nowMs: Int64) {
        for (taskID, task) in pending.sorted(by: { $0.key < $1.key }) where task.doneAtMs <= nowMs {
            pending[taskID] = nil
            let node = nodes[task.node]
            let exit: Int
            switch task.kind {
            case .check:
                exit = node.current && !node.liar ? 0 : 1
            case .apply:
                let fails = node.outage && random.nextUnitDouble() < configuration.outageFailureRate
                if !fails { nodes[task.node].current = true }
                exit = fails ? 1 : 0
            }
            results[task.tenant][taskID] = .exited(exit)
        }
    }

    /// Peaks of concurrent remediation, halted zones, and when the healthy fleet was in sync.
    mutating func observe(nowMs: Int64) {
        var zonePeak: [String: Int] = [:]
        for tenantStates in states {
            let remediating = tenantStates.values.filter { $0.state.isRemediating }
            stats.peakPerItem = max(stats.peakPerItem, remediating.count)
            var perZone: [String: Int] = [:]
            for record in remediating { perZone[record.zone, default: 0] += 1 }
            for (zone, count) in perZone { zonePeak[zone] = max(zonePeak[zone] ?? 0, count) }
            if stats.haltedAtMs == nil, tenantStates.values.contains(where: { $0.state == .haltedDomain }) { stats.haltedAtMs = nowMs }
        }
        stats.peakPerItemZone = max(stats.peakPerItemZone, zonePeak.values.max() ?? 0)
        if stats.healthyInSyncAtMs == nil {
            let healthy = nodes.indices.filter { !nodes[$0].outage && !nodes[$0].liar }
            let synced = healthy.allSatisfy { Self.isInSync(states[nodes[$0].tenant][nodes[$0].id]) }
            if synced { stats.healthyInSyncAtMs = nowMs }
        }
    }
}

extension RolloutSimulation {
    /// In sync, or in the middle of a routine re-check after being in sync (every node spends
    /// a moment of each interval there, so "all IN_SYNC at one instant" would never be seen).
    static func isInSync(_ record: NodeReconciliation?) -> Bool {
        guard let record else { return false }
        if record.state == .inSync { return true }
        return record.state == .checking && record.reason == .checkDue && record.lastExitCode == 0 && record.driftStartedAtMs == nil
    }
}

/// Counters of a rollout run.
public struct RolloutStats: Sendable {
    public var applies = 0
    public var outageApplies = 0
    public var drifts = 0
    public var outcomes: [String: Int] = [:]
    public var reconcileMs: [Int64] = []
    public var peakPerItem = 0
    public var peakPerItemZone = 0
    public var haltedAtMs: Int64?
    public var healthyInSyncAtMs: Int64?
    /// Healthy nodes (not in the failing zone, not lying) not in sync at the end, by state/reason.
    public var healthyNotInSync: [String: Int] = [:]
}
