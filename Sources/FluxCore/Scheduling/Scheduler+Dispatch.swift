/// Dispatch: fair share across tenants, strict priority with aging within a tenant, then the
/// best eligible node.
///
/// Tenants with waiting work sit in a ring served by deficit round robin: a tenant at the front
/// gets `weight` dispatch credits, spends them one task at a time, and goes to the back. A flood
/// from one tenant therefore only lengthens that tenant's own queue; every other tenant still
/// gets its weighted share of dispatches each round. Within a tenant the task with the most
/// urgent effective class goes first (ties: the older one), so a P10 task overtakes fresh P0
/// tasks once it has aged ten intervals. A tenant with no free slot, at `maxInFlight`, or whose
/// candidate heads all lack an eligible node is skipped for the rest of the round.
extension Scheduler {
    mutating func dispatchWaiting(now: Timestamp, into out: inout [SchedulerDecision]) {
        dispatchRound &+= 1
        var budget = configuration.maxDispatchesPerTick
        var sinceProgress = 0
        while let tenant = activeTenants.first, sinceProgress < activeTenants.count, budget > 0 {
            let sent = serve(tenant, budget: budget, now: now, into: &out)
            budget -= sent
            sinceProgress = sent > 0 ? 0 : sinceProgress + 1
            activeTenants.removeFirst()
            if tenants[Int(tenant)].waiting > 0 {
                activeTenants.append(tenant)
            } else {
                tenants[Int(tenant)].inActiveRing = false
                tenants[Int(tenant)].deficit = 0
            }
        }
        registry.unpark()
    }

    /// Spends the tenant's deficit; returns how many tasks it dispatched.
    private mutating func serve(_ tenant: UInt32, budget: Int, now: Timestamp, into out: inout [SchedulerDecision]) -> Int {
        let index = Int(tenant)
        if tenants[index].blockedRound != dispatchRound {
            tenants[index].blockedRound = dispatchRound
            tenants[index].blockedClasses = 0
        }
        if tenants[index].deficit <= 0 { tenants[index].deficit += tenants[index].configuration.weight }
        var sent = 0
        while tenants[index].deficit > 0, sent < budget, canDispatch(tenant) {
            guard dispatchBest(of: tenant, now: now, into: &out) else { break }
            tenants[index].deficit -= 1
            sent += 1
        }
        return sent
    }

    private func canDispatch(_ tenant: UInt32) -> Bool {
        let state = tenants[Int(tenant)]
        return state.waiting > 0 && state.inFlight < state.configuration.maxInFlight
            && registry.tenants[Int(tenant)].freeSlots > 0
    }

    /// Dispatches the most urgent placeable head of the tenant's class FIFOs.
    private mutating func dispatchBest(of tenant: UInt32, now: Timestamp, into out: inout [SchedulerDecision]) -> Bool {
        while let candidate = bestHead(of: tenant, now: now) {
            if let node = placement(for: candidate.handle, now: now) {
                dispatch(candidate.handle, to: node, now: now, into: &out)
                return true
            }
            tenants[Int(tenant)].blockedClasses |= 1 << candidate.priority
        }
        return false
    }

    /// The head with the lowest effective class, then the oldest, among unblocked classes.
    private mutating func bestHead(of tenant: UInt32, now: Timestamp) -> (handle: UInt32, priority: Int)? {
        var best: (handle: UInt32, priority: Int, effective: Int, enqueuedAt: Int64)?
        let blocked = tenants[Int(tenant)].blockedClasses
        for priority in 0..<PriorityClass.count where blocked & (1 << priority) == 0 {
            guard queues.live(tenant: tenant, priority: priority) > 0,
                  let head = queues.head(tenant: tenant, priority: priority, store: store)
            else { continue }
            let effective = effectiveClass(priority: UInt8(priority), enqueuedAt: head.enqueuedAt, now: now)
            if let found = best, (effective, head.enqueuedAt) >= (found.effective, found.enqueuedAt) { continue }
            best = (head.handle, priority, effective, head.enqueuedAt)
        }
        return best.map { ($0.handle, $0.priority) }
    }

    private mutating func placement(for handle: UInt32, now: Timestamp) -> UInt32? {
        let constraint = store[handle].constraint
        let tenant = store[handle].tenant
        if let node = constraint.targetNode {
            return registry.choose(node: node, tenant: tenant, now: now)
        }
        return registry.choose(inPool: pool(for: constraint, tenant: tenant, now: now), now: now)
    }

    private mutating func dispatch(_ handle: UInt32, to node: UInt32, now: Timestamp, into out: inout [SchedulerDecision]) {
        store[handle].node = node
        store[handle].attempt &+= 1
        let timeoutAt = now.advanced(byMilliseconds: Int64(store[handle].timeoutMilliseconds))
        store[handle].timerAt = timeoutAt.milliseconds
        let transition = move(handle, to: .dispatched, reason: .dispatched, now: now)
        out.append(.dispatched(
            transition, node: registry.nodes[Int(node)].id, attempt: Int(store[handle].attempt), timeoutAt: timeoutAt))
    }
}
