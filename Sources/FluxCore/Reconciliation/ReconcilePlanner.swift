/// Decides, for one desired item at one instant, what each matching node needs next: the pure
/// heart of reconciliation (check → drift → remediate → verify), with time and task results
/// passed in and nothing done here.
///
/// One call is one step of every node's state machine (`ReconcileState`):
/// 1. membership: new nodes are discovered, nodes away too long go NODE_GONE, returning ones
///    start over; a generation change or a pause resets records;
/// 2. finished checks and applies move their node on;
/// 3. due checks go out (interval, `:reconcile`, verification, retry after backoff);
/// 4. drifted nodes are admitted to remediation in drift order, bounded by `maxParallel` per
///    item and `maxParallelPerDomain` per zone, and not at all in a zone whose remediations keep
///    failing (`HALTED_DOMAIN`).
/// The runtime submits `plan.submissions` (idempotently, so a repeated plan makes no twin), then
/// writes `plan.changed` and `plan.transitions`, fenced by the slot lease.
public struct ReconcilePlanner {
    public let policy: ReconcilePolicy
    public let nowMs: Int64
    /// Names a piece of work: deterministic, so a re-planned step names the same task.
    let name: (ReconcileWork) -> String
    var plan: ReconcilePlan

    public init(
        policy: ReconcilePolicy, states: [String: NodeReconciliation], nowMs: Int64,
        name: @escaping (ReconcileWork) -> String
    ) {
        self.policy = policy
        self.nowMs = nowMs
        self.name = name
        plan = ReconcilePlan(states: states)
    }

    /// Plans one step for every node of the item; `nodes` are the nodes the selector matches now,
    /// `results` the outcome of every task a record waits for.
    public static func plan(
        policy: ReconcilePolicy, nodes: [ReconcileNode], states: [String: NodeReconciliation],
        results: [String: ReconcileTaskResult], nowMs: Int64, name: @escaping (ReconcileWork) -> String
    ) -> ReconcilePlan {
        var planner = ReconcilePlanner(policy: policy, states: states, nowMs: nowMs, name: name)
        let present = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        planner.updateMembership(present)
        for node in planner.plan.states.keys.sorted() {
            planner.resolveTask(of: node, results: results)
            planner.advanceInTime(node, available: present[node]?.available ?? false)
        }
        planner.admitRemediations(present)
        return planner.plan
    }

    // MARK: membership, generation, pause

    mutating func updateMembership(_ present: [String: ReconcileNode]) {
        // In name order: dictionary order differs between instances, and the plan must not.
        for (id, node) in present.sorted(by: { $0.key < $1.key }) where plan.states[id] == nil {
            plan.states[id] = NodeReconciliation(generation: policy.generation, zone: node.zone, nowMs: nowMs)
            plan.changed.insert(id)
            plan.transitions.append(ReconcileTransition(node: id, from: nil, to: .unknown, reason: .discovered))
        }
        for id in plan.states.keys.sorted() {
            guard var record = plan.states[id] else { continue }
            if let node = present[id], node.available {
                // Written only now and then: a fresh record is enough to tell "away" from "here".
                if nowMs - record.lastSeenAtMs > policy.nodeGoneAfter / 4 || record.zone != node.zone {
                    record.lastSeenAtMs = nowMs
                    record.zone = node.zone
                    update(id, record)
                }
                if record.state == .nodeGone { move(id, to: .unknown, .nodeReturned) { [nowMs] in $0.nextCheckAtMs = nowMs } }
            } else if record.state != .nodeGone, nowMs - record.lastSeenAtMs >= policy.nodeGoneAfter {
                move(id, to: .nodeGone, .nodeGone) { $0.taskID = nil }
            }
            resetIfStale(id)
        }
    }

    /// A record of an older generation starts over once its task (if any) is done; a paused
    /// item parks every node, a resumed one starts them over.
    mutating func resetIfStale(_ id: String) {
        guard let record = plan.states[id], record.state != .nodeGone else { return }
        if policy.paused {
            if record.state != .paused { move(id, to: .paused, .paused) { $0.taskID = nil } }
            return
        }
        if record.state == .paused {
            move(id, to: .unknown, .resumed) { [nowMs] in $0.nextCheckAtMs = nowMs }
        }
        if record.generation != policy.generation, record.taskID == nil {
            var fresh = NodeReconciliation(generation: policy.generation, zone: record.zone, nowMs: nowMs)
            fresh.lastSeenAtMs = record.lastSeenAtMs
            fresh.reason = .generationChanged
            plan.states[id] = fresh
            plan.changed.insert(id)
            plan.transitions.append(ReconcileTransition(node: id, from: record.state, to: .unknown, reason: .generationChanged))
        }
    }

    // MARK: remediation admission

    mutating func admitRemediations(_ present: [String: ReconcileNode]) {
        let current = plan.states.filter { $0.value.generation == policy.generation }
        // Work of an older generation still out counts too: the bound is on nodes being changed.
        var total = plan.states.values.filter { $0.state.isRemediating }.count
        var perZone: [String: Int] = [:]
        var failing: [String: Int] = [:]
        for record in plan.states.values where record.state.isRemediating { perZone[record.zone, default: 0] += 1 }
        for record in current.values where record.countsAgainstZone { failing[record.zone, default: 0] += 1 }
        let waiting = current.filter { $0.value.state == .drifted || $0.value.state == .haltedDomain }
            .sorted { ($0.value.lastDriftAtMs ?? 0, $0.key) < ($1.value.lastDriftAtMs ?? 0, $1.key) }
        for (id, record) in waiting {
            let halted = failing[record.zone, default: 0] >= policy.haltDomainAfterFailures
            if halted {
                if record.state != .haltedDomain { move(id, to: .haltedDomain, .domainHalted) }
                continue
            }
            if record.state == .haltedDomain { move(id, to: .drifted, .domainResumed) }
            guard present[id]?.available == true, total < policy.maxParallel,
                  perZone[record.zone, default: 0] < policy.maxParallelPerDomain else { continue }
            total += 1
            perZone[record.zone, default: 0] += 1
            let work = ReconcileWork(node: id, kind: .apply, generation: record.generation, sequence: record.driftSeq)
            let taskID = submit(work)
            move(id, to: .remediating, .remediationStarted, taskID: taskID) { $0.taskID = taskID }
        }
    }

    // MARK: bookkeeping

    mutating func submit(_ work: ReconcileWork) -> String {
        let taskID = name(work)
        plan.submissions.append((work, taskID))
        return taskID
    }

    mutating func update(_ id: String, _ record: NodeReconciliation) {
        plan.states[id] = record
        plan.changed.insert(id)
    }

    /// Moves a node to `state` for `reason`, applying `change` to its record, and records the
    /// transition for the timeline.
    mutating func move(
        _ id: String, to state: ReconcileState, _ reason: ReconcileReason, taskID: String? = nil, exitCode: Int? = nil,
        _ change: (inout NodeReconciliation) -> Void = { _ in }
    ) {
        guard var record = plan.states[id] else { return }
        let from = record.state
        record.state = state
        record.reason = reason
        change(&record)
        update(id, record)
        plan.transitions.append(ReconcileTransition(node: id, from: from, to: state, reason: reason, taskID: taskID, exitCode: exitCode))
    }
}
