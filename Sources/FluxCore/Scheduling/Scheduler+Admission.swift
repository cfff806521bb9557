/// Admission (docs/scheduler-design.md), in order: deadline already passed → DEADLINE_EXCEEDED; mode
/// (READ_ONLY; DEGRADED for a tenant at or over its fair share) → REJECTED; tenant hard quota → REJECTED; CPU budget → REJECTED;
/// every eligible node in a throttled domain → DEFERRED; queue full → SHED (from the tenant
/// furthest over its fair share when the newcomer's tenant is within its own, else the newcomer's
/// tenant's lowest class, newest first, or the newcomer itself); otherwise ADMITTED.
extension Scheduler {
    mutating func submit(_ spec: TaskSpec, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let tenant = tenantIndex[spec.tenant], tenants[Int(tenant)].isConfigured else {
            let known = store.handle(of: spec.id) != nil
            out.append(known ? Self.ignored(.duplicateTask, task: spec.id, tenant: spec.tenant)
                : .rejected(arrivalTransition(spec.id, spec.tenant, to: .rejected, reason: .unknownTenant)))
            return
        }
        guard let handle = store.insert(makeRecord(spec, tenant: tenant, now: now)) else {
            out.append(Self.ignored(.duplicateTask, task: spec.id, tenant: spec.tenant))
            return
        }
        tenants[Int(tenant)].recordArrival(at: now.milliseconds)
        admit(handle, now: now, into: &out)
    }

    /// Runs admission for a held task in state QUEUED (new, deferred, or resumed).
    mutating func admit(_ handle: UInt32, now: Timestamp, into out: inout [SchedulerDecision]) {
        if store[handle].deadline <= now.milliseconds {
            out.append(.deadlineExceeded(move(handle, to: .deadlineExceeded, reason: .deadlinePassed, now: now)))
            return
        }
        if let reason = rejection(for: handle, now: now) {
            out.append(.rejected(move(handle, to: .rejected, reason: reason, now: now)))
            return
        }
        if everyEligibleNodeThrottled(handle, now: now) {
            let retryAt = now.advanced(by: configuration.deferRetryInterval)
            store[handle].timerAt = retryAt.milliseconds
            armDeadline(handle)
            out.append(.deferred(move(handle, to: .deferred, reason: .domainThrottled, now: now), retryAt: retryAt))
            return
        }
        if queues.total >= configuration.maxWaitingTasks && !makeRoom(for: handle, now: now, into: &out) {
            out.append(.shed(move(handle, to: .shed, reason: .queueFull, now: now)))
            return
        }
        store[handle].enqueuedAt = now.milliseconds
        armDeadline(handle)
        let priority = PriorityClass(unchecked: store[handle].priority)
        out.append(.admitted(move(handle, to: .admitted, reason: .admitted, now: now), priority: priority))
    }

    /// The hard-limit reason to refuse the task, if any.
    private func rejection(for handle: UInt32, now: Timestamp) -> DecisionReason? {
        switch modes.current {
        case .readOnly: return .readOnly
        case .degraded where modes.rejectsAcceptedWork && store[handle].priority > configuration.degradedMaxPriority.rawValue
            && !isWithinFairShareOfLoad(store[handle].tenant, now: now):
            return .modeDegraded
        default: break
        }
        let tenant = Int(store[handle].tenant)
        let limits = tenants[tenant].configuration
        if tenants[tenant].queued + tenants[tenant].inFlight >= limits.maxQueued { return .tenantQuotaQueued }
        if limits.maxInFlight == 0 { return .tenantQuotaInFlight }
        if tenants[tenant].cpuCommitted + Int(store[handle].cpuCost) > limits.cpuBudget { return .cpuBudget }
        return nil
    }

    /// True when the tenant puts less than its weighted share of the load on the shard (its
    /// outstanding work — waiting, backing off, deferred and in flight — plus its recent
    /// arrivals; shares among the tenants that have any, itself included). Under DEGRADED such a
    /// tenant is not what overloads the shard, so its low-priority work is still admitted: one
    /// tenant's flood sheds that tenant, not everyone (docs/scheduler-design.md). Outstanding,
    /// not waiting: a flood whose tasks are dispatched as fast as they come waits for nothing
    /// and still fills the machine; and arrivals too, as it may have nothing outstanding at the
    /// moment (`TenantState.load`). Walks the tenants once; asked only under DEGRADED, for P4–P10.
    func isWithinFairShareOfLoad(_ tenant: UInt32, now: Timestamp) -> Bool {
        let loads = loads(now: now)
        let (total, weights) = shareTotals(of: loads, including: Int(tenant))
        guard total > 0, weights > 0 else { return false }
        return loads[Int(tenant)] < Double(tenants[Int(tenant)].configuration.weight) / Double(weights) * total
    }

    /// Tenants putting at least their weighted share of the load on the shard (the test of
    /// `isWithinFairShareOfLoad`, failed): whom DEGRADED refuses P4–P10 from at the door.
    /// A tenant with nothing outstanding and no recent arrival is never listed. Walks the tenants.
    public func tenantsAtOrOverShareOfLoad(now: Timestamp) -> [TenantID] {
        let loads = loads(now: now)
        let (total, weights) = shareTotals(of: loads)
        guard total > 0, weights > 0 else { return [] }
        return zip(tenants, loads).filter { state, load in
            load > 0 && load >= Double(state.configuration.weight) / Double(weights) * total
        }.map(\.0.id)
    }

    /// Each tenant's load (`TenantState.load`), by tenant index; 0 for a tenant not configured.
    private func loads(now: Timestamp) -> [Double] {
        tenants.map { $0.isConfigured ? $0.load(at: now.milliseconds) : 0 }
    }

    /// The sum of the loads, and of the weights, of the tenants with any load (and of
    /// `including`, whatever its load): what the shares are taken of.
    private func shareTotals(of loads: [Double], including: Int? = nil) -> (total: Double, weights: Int) {
        var total = 0.0
        var weights = 0
        for (index, load) in loads.enumerated() where tenants[index].isConfigured && (load > 0 || index == including) {
            total += load
            weights += tenants[index].configuration.weight
        }
        return (total, weights)
    }

    /// True when the tenant holds less than its weighted share of the waiting tasks (shares
    /// among the tenants that have waiting tasks, itself included): who may displace whom when
    /// the waiting set is full.
    func isWithinFairShare(_ tenant: UInt32) -> Bool {
        let total = queues.total
        guard total > 0 else { return false }
        let share = Double(tenants[Int(tenant)].configuration.weight) / Double(waitingShareWeights(including: tenant))
        return Double(tenants[Int(tenant)].waiting) < share * Double(total)
    }

    /// The sum of the weights the waiting set is shared among: the tenants with waiting tasks,
    /// and `newcomer`'s.
    private func waitingShareWeights(including newcomer: UInt32) -> Int {
        var weights = tenants[Int(newcomer)].configuration.weight
        for active in activeTenants where active != newcomer { weights += tenants[Int(active)].configuration.weight }
        return weights
    }

    /// True if the task has eligible nodes and all of them sit in throttled domains. A task with
    /// no eligible node at all is admitted and waits (nodes may connect).
    private mutating func everyEligibleNodeThrottled(_ handle: UInt32, now: Timestamp) -> Bool {
        let constraint = store[handle].constraint
        let counts: (eligible: Int, unthrottled: Int)
        if let node = constraint.targetNode {
            counts = registry.eligibility(node: node)
        } else {
            let pool = pool(for: constraint, tenant: store[handle].tenant, now: now)
            counts = registry.eligibility(pool: pool)
        }
        return counts.eligible > 0 && counts.unthrottled == 0
    }

    /// The node pool serving a task's constraint (not for node targets).
    mutating func pool(for constraint: PlacementConstraint, tenant: UInt32, now: Timestamp) -> UInt32 {
        if let selector = constraint.selector {
            return registry.pool(tenant: tenant, selector: selector, now: now)
        }
        return registry.tenants[Int(tenant)].allPool
    }

    /// Makes room in a full queue for the newcomer, or returns false if the newcomer should be
    /// shed itself. Tenant-fair: a newcomer whose tenant is within its weighted fair share of the
    /// waiting tasks takes the place of a task of the tenant furthest over its share, whatever
    /// their classes; a newcomer whose tenant is at or over its share can only displace its own
    /// tenant's less urgent work. So one tenant's flood is shed from that tenant, and a tenant
    /// within its share never loses a task to a full queue (docs/scheduler-design.md).
    private mutating func makeRoom(for handle: UInt32, now: Timestamp, into out: inout [SchedulerDecision]) -> Bool {
        let tenant = store[handle].tenant
        if isWithinFairShare(tenant), let flooder = tenantFurthestOverShare(including: tenant), flooder != tenant,
           let victim = shedVictim(tenant: flooder, now: now) {
            out.append(.shed(move(victim.handle, to: .shed, reason: .queueFullOverShare, now: now)))
            return true
        }
        guard let victim = shedVictim(tenant: tenant, now: now), Int(store[handle].priority) < victim.effective else { return false }
        out.append(.shed(move(victim.handle, to: .shed, reason: .queueFullDisplaced, now: now)))
        return true
    }

    /// Tenants holding at least their weighted share of the waiting tasks (shares among the
    /// tenants with waiting tasks): whom a backlog is made of, so whom backpressure at the door
    /// refuses first. A tenant alone in the queue holds all of it. Walks the active tenants.
    public var tenantsAtOrOverWaitingShare: [TenantID] {
        let total = Double(queues.total)
        guard total > 0 else { return [] }
        var weights = 0
        for active in activeTenants where tenants[Int(active)].waiting > 0 { weights += tenants[Int(active)].configuration.weight }
        guard weights > 0 else { return [] }
        return activeTenants.filter { active in
            let state = tenants[Int(active)]
            return state.waiting > 0 && Double(state.waiting) >= Double(state.configuration.weight) / Double(weights) * total
        }.map { tenants[Int($0)].id }
    }

    /// The tenant holding the most waiting tasks beyond its weighted share (shares among the
    /// tenants with waiting tasks and `newcomer`'s); ties go to the lower handle.
    func tenantFurthestOverShare(including newcomer: UInt32) -> UInt32? {
        let total = Double(queues.total)
        let weights = waitingShareWeights(including: newcomer)
        var best: (tenant: UInt32, excess: Double)?
        for active in activeTenants where tenants[Int(active)].waiting > 0 {
            let share = Double(tenants[Int(active)].configuration.weight) / Double(weights)
            let excess = Double(tenants[Int(active)].waiting) - share * total
            if let found = best, (excess, found.tenant) <= (found.excess, active) { continue }
            best = (active, excess)
        }
        return best?.tenant
    }

    /// The tenant's newest task of each base class is the least aged of that class, so the
    /// victim is among those 11 candidates; a base class below the best effective class found
    /// cannot beat it.
    private mutating func shedVictim(tenant: UInt32, now: Timestamp) -> (handle: UInt32, effective: Int)? {
        var best: (handle: UInt32, effective: Int, enqueuedAt: Int64)?
        for base in stride(from: PriorityClass.count - 1, through: 0, by: -1) {
            if let found = best, base < found.effective { break }
            guard let entry = queues.newest(tenant: tenant, priority: base, store: store) else { continue }
            let record = store[entry.handle]
            let effective = effectiveClass(of: record, now: now)
            if let found = best, (effective, record.enqueuedAt) <= (found.effective, found.enqueuedAt) { continue }
            best = (entry.handle, effective, record.enqueuedAt)
        }
        return best.map { ($0.handle, $0.effective) }
    }

    mutating func armDeadline(_ handle: UInt32) {
        let record = store[handle]
        guard record.deadline != TaskRecord.noTime else { return }
        deadlineTimers.insert(TimerEntry(at: record.deadline, handle: handle, check: record.life))
    }

    /// A QUEUED record for a spec; tenants, nodes, selectors and policies become handles.
    mutating func makeRecord(_ spec: TaskSpec, tenant: UInt32, now: Timestamp) -> TaskRecord {
        TaskRecord(
            id: spec.id, enqueuedAt: now.milliseconds, deadline: spec.deadline?.milliseconds ?? TaskRecord.noTime,
            timerAt: TaskRecord.noTime, tenant: tenant, cpuCost: UInt32(clamping: spec.cpuCost),
            timeoutMilliseconds: UInt32(clamping: max(1, spec.timeout.wholeMilliseconds)),
            constraint: constraint(spec.target, tenant: tenant, now: now), node: TaskRecord.noNode,
            policy: policyHandle(spec.retryPolicy), life: 0, stamp: 0, attempt: 0, attemptBase: 0,
            priority: spec.priority.rawValue, state: .queued, lastReason: .admitted, isLive: true,
            exitCodeIsAnswer: spec.exitCodeIsAnswer)
    }

    private mutating func constraint(_ target: PlacementTarget, tenant: UInt32, now: Timestamp) -> PlacementConstraint {
        switch target {
        case .any: .any
        case .node(let node): .node(registry.handle(tenant: tenant, node: node, now: now))
        case .selector(let selector): .selector(registry.internSelector(selector))
        }
    }

    private mutating func policyHandle(_ policy: RetryPolicy) -> UInt32 {
        if policy == .default { return 0 }
        if let existing = policyIndex[policy] { return existing }
        let handle = UInt32(policies.count)
        policies.append(policy)
        policyIndex[policy] = handle
        return handle
    }
}
