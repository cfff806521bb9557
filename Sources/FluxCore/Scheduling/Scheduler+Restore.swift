/// Rebuilding after a restart or a slot handoff: tasks are put back where Redis says they are,
/// with their original times and attempt numbers, without admission and without decisions
/// (their states are already durable). Limits are not checked: what Redis holds was admitted.
extension Scheduler {
    mutating func restore(_ spec: TaskSpec, _ position: RestoredTask, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let tenant = configuredTenant(spec.tenant) else {
            out.append(Self.ignored(.unknownTenant, task: spec.id, tenant: spec.tenant))
            return
        }
        var record = makeRecord(spec, tenant: tenant, now: now)
        record.lastReason = .restoredTask
        let state = place(&record, position, tenant: tenant, now: now)
        guard let handle = store.insert(record) else {
            out.append(Self.ignored(.duplicateTask, task: spec.id, tenant: spec.tenant))
            return
        }
        store[handle].state = state
        enter(handle, Category(state), now: now)
        armDeadline(handle)
    }

    /// Fills the record's fields for its restored position; returns its state.
    private mutating func place(_ record: inout TaskRecord, _ position: RestoredTask, tenant: UInt32, now: Timestamp) -> TaskState {
        switch position {
        case .waiting(let enqueuedAt, let attempts):
            record.enqueuedAt = enqueuedAt.milliseconds
            record.attempt = UInt16(clamping: attempts)
            return .admitted
        case .inFlight(let node, let attempt, let timeoutAt, let running):
            record.node = registry.handle(tenant: tenant, node: node, now: now)
            record.attempt = UInt16(clamping: attempt)
            record.timerAt = timeoutAt.milliseconds
            return running ? .running : .dispatched
        case .retryWaiting(let dueAt, let attempts):
            record.timerAt = dueAt.milliseconds
            record.attempt = UInt16(clamping: attempts)
            return .retryWait
        case .deferred(let retryAt):
            record.timerAt = retryAt.milliseconds
            return .deferred
        case .suspended(let attempts):
            record.attempt = UInt16(clamping: attempts)
            return .suspended
        }
    }
}
