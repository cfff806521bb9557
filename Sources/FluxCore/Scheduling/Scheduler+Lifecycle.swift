/// The one place where a held task changes state. Every change is checked against the legal
/// table (a broken invariant here would corrupt counters, so it is a precondition), and the
/// accounting of where the task sits — waiting FIFO, timer, node — follows from the state alone:
///
/// | category  | states                        | counted in                         |
/// | --------- | ----------------------------- | ---------------------------------- |
/// | waiting   | ADMITTED                      | FIFO, `waiting`, `queued`, CPU     |
/// | timer     | RETRY_WAIT, DEFERRED          | retry timers, `queued`, CPU        |
/// | inFlight  | DISPATCHED, RUNNING, VERIFYING| node, `inFlight`, timeout, CPU     |
/// | idle      | QUEUED, SUSPENDED, terminal   | nothing                            |
extension Scheduler {
    enum Category: Equatable {
        case waiting, timer, inFlight, idle

        init(_ state: TaskState) {
            switch state {
            case .admitted: self = .waiting
            case .retryWait, .deferred: self = .timer
            case .dispatched, .running, .verifying: self = .inFlight
            default: self = .idle
            }
        }
    }

    /// Moves a held task to `next`. Callers set the fields the new place needs first:
    /// `enqueuedAt` (waiting), `timerAt` (timer), `node`, `attempt`, `timerAt` (in flight).
    /// Terminal states free the record. Returns the transition for the decision.
    @discardableResult
    mutating func move(_ handle: UInt32, to next: TaskState, reason: DecisionReason, now: Timestamp) -> TaskTransition {
        let from = store[handle].state
        precondition(from.canTransition(to: next), "illegal transition \(from) -> \(next)")
        let before = Category(from)
        let after = Category(next)
        store[handle].state = next
        store[handle].lastReason = reason
        if before != after { store[handle].stamp &+= 1 }
        let transition = TaskTransition(
            task: store[handle].id, tenant: tenants[Int(store[handle].tenant)].id, from: from, to: next, reason: reason)
        if before != after {
            leave(handle, before, now: now)
            enter(handle, after, now: now)
        }
        if next.isTerminal { forget(handle) }
        return transition
    }

    /// Puts a record into the place of its current state (restore, and `move`).
    mutating func enter(_ handle: UInt32, _ category: Category, now: Timestamp) {
        let tenantHandle = store[handle].tenant
        let tenant = Int(tenantHandle)
        let stamp = store[handle].stamp
        switch category {
        case .idle:
            return
        case .waiting:
            queues.enqueue(
                QueueEntry(handle: handle, stamp: stamp), tenant: tenantHandle, priority: Int(store[handle].priority),
                enqueuedAt: store[handle].enqueuedAt, store: store)
            tenants[tenant].waiting += 1
            tenants[tenant].queued += 1
            activate(tenantHandle)
        case .timer:
            retryTimers.insert(TimerEntry(at: store[handle].timerAt, handle: handle, check: stamp))
            tenants[tenant].queued += 1
        case .inFlight:
            registry.assign(task: handle, to: store[handle].node, now: now)
            timeoutTimers.insert(TimerEntry(at: store[handle].timerAt, handle: handle, check: stamp))
            tenants[tenant].inFlight += 1
            inFlightTotal += 1
        }
        tenants[tenant].cpuCommitted += Int(store[handle].cpuCost)
    }

    private mutating func leave(_ handle: UInt32, _ category: Category, now: Timestamp) {
        let tenant = Int(store[handle].tenant)
        switch category {
        case .idle:
            return
        case .waiting:
            queues.didRemove(tenant: store[handle].tenant, priority: Int(store[handle].priority), store: store)
            tenants[tenant].waiting -= 1
            tenants[tenant].queued -= 1
        case .timer:
            tenants[tenant].queued -= 1
        case .inFlight:
            registry.release(task: handle, from: store[handle].node, now: now)
            tenants[tenant].inFlight -= 1
            inFlightTotal -= 1
        }
        tenants[tenant].cpuCommitted -= Int(store[handle].cpuCost)
    }

    private mutating func forget(_ handle: UInt32) {
        poisonNodes.removeValue(forKey: handle)
        store.remove(handle)
    }

    /// Adds a tenant to the fair-share ring if it is not there yet.
    mutating func activate(_ tenant: UInt32) {
        guard !tenants[Int(tenant)].inActiveRing else { return }
        tenants[Int(tenant)].inActiveRing = true
        activeTenants.append(tenant)
    }

    /// The class a waiting task competes in now: one class more urgent per aging interval.
    func effectiveClass(of record: TaskRecord, now: Timestamp) -> Int {
        effectiveClass(priority: record.priority, enqueuedAt: record.enqueuedAt, now: now)
    }

    func effectiveClass(priority: UInt8, enqueuedAt: Int64, now: Timestamp) -> Int {
        let steps = max(0, now.milliseconds - enqueuedAt) / agingMilliseconds
        return Int(priority) - Int(min(Int64(priority), steps))
    }

    /// A legal transition of a task the scheduler does not hold (rejected or shed on arrival).
    func arrivalTransition(_ id: TaskID, _ tenant: TenantID, to next: TaskState, reason: DecisionReason) -> TaskTransition {
        precondition(TaskState.queued.canTransition(to: next), "illegal transition QUEUED -> \(next)")
        return TaskTransition(task: id, tenant: tenant, from: .queued, to: next, reason: reason)
    }

    static func ignored(_ reason: DecisionReason, task: TaskID? = nil, tenant: TenantID? = nil, node: NodeID? = nil) -> SchedulerDecision {
        .eventIgnored(IgnoredEvent(task: task, tenant: tenant, node: node, reason: reason))
    }
}
