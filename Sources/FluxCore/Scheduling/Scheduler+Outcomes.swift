/// Results of attempts, cancellation and resumption.
///
/// A result is applied only if it names the task's current attempt while the task is in flight;
/// anything else (a late result after a timeout, a duplicate, an unknown id) is ignored with an
/// `eventIgnored` decision and changes nothing.
extension Scheduler {
    mutating func start(_ id: TaskID, attempt: Int, into out: inout [SchedulerDecision]) {
        guard let handle = currentAttempt(id, attempt, into: &out) else { return }
        guard store[handle].state == .dispatched else {
            out.append(Self.ignored(.notApplicable, task: id))
            return
        }
        out.append(.started(move(handle, to: .running, reason: .started, now: latest)))
    }

    mutating func finish(_ id: TaskID, attempt: Int, outcome: TaskOutcome, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let handle = currentAttempt(id, attempt, into: &out) else { return }
        conclude(handle, outcome: outcome, now: now, into: &out)
    }

    /// Applies the outcome of the current attempt of an in-flight task.
    mutating func conclude(_ handle: UInt32, outcome: TaskOutcome, now: Timestamp, into out: inout [SchedulerDecision]) {
        let node = store[handle].node
        let failure = Self.failure(of: outcome)
        let answered = store[handle].exitCodeIsAnswer && failure?.kind == .nonZeroExit
        recordJob(on: node, failed: failure != nil && !answered, now: now, into: &out)
        guard let failure else {
            out.append(.succeeded(move(handle, to: .succeeded, reason: .succeeded, now: now)))
            return
        }
        fail(handle, kind: failure.kind, reason: failure.reason, node: node, now: now, into: &out)
    }

    /// Poison check, then retry with backoff or final failure.
    private mutating func fail(
        _ handle: UInt32, kind: FailureKind, reason: DecisionReason, node: UInt32, now: Timestamp,
        into out: inout [SchedulerDecision]
    ) {
        if kind == .nodeLost && isPoison(handle, lostOn: node) {
            out.append(.suspended(move(handle, to: .suspended, reason: .poison, now: now)))
            return
        }
        let record = store[handle]
        let policy = policies[Int(record.policy)][kind]
        let used = Int(record.attempt) - Int(record.attemptBase)
        guard used < policy.maxAttempts else {
            out.append(.failed(move(handle, to: .failed, reason: reason, now: now)))
            return
        }
        let delay = policy.delayMilliseconds(retry: used, seed: FNV1a.hash64(record.id.rawValue))
        let dueAt = now.advanced(byMilliseconds: delay)
        store[handle].timerAt = dueAt.milliseconds
        let transition = move(handle, to: .retryWait, reason: reason, now: now)
        out.append(.retryScheduled(transition, dueAt: dueAt, nextAttempt: Int(record.attempt) + 1))
    }

    /// Remembers the node; true once attempts crashed or were lost on enough distinct nodes.
    private mutating func isPoison(_ handle: UInt32, lostOn node: UInt32) -> Bool {
        var nodes = poisonNodes[handle] ?? []
        if !nodes.contains(node) { nodes.append(node) }
        poisonNodes[handle] = nodes
        return nodes.count >= configuration.poisonDistinctNodes
    }

    mutating func cancel(_ id: TaskID, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let handle = store.handle(of: id) else {
            out.append(Self.ignored(.unknownTask, task: id))
            return
        }
        if store[handle].state.isInFlight { out.append(cancelAttempt(handle)) }
        out.append(.cancelled(move(handle, to: .cancelled, reason: .cancelRequested, now: now)))
    }

    mutating func resume(_ id: TaskID, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let handle = store.handle(of: id), store[handle].state == .suspended else {
            out.append(Self.ignored(store.handle(of: id) == nil ? .unknownTask : .notApplicable, task: id))
            return
        }
        poisonNodes.removeValue(forKey: handle)
        store[handle].attemptBase = store[handle].attempt
        out.append(.requeued(move(handle, to: .queued, reason: .resumed, now: now)))
        admit(handle, now: now, into: &out)
    }

    /// The decision telling the agent to stop the current attempt.
    func cancelAttempt(_ handle: UInt32) -> SchedulerDecision {
        let record = store[handle]
        return .cancelDispatched(
            task: record.id, tenant: tenants[Int(record.tenant)].id,
            node: registry.nodes[Int(record.node)].id, attempt: Int(record.attempt))
    }

    /// The handle if `id` is in flight with `attempt` as its current attempt.
    private func currentAttempt(_ id: TaskID, _ attempt: Int, into out: inout [SchedulerDecision]) -> UInt32? {
        guard let handle = store.handle(of: id) else {
            out.append(Self.ignored(.unknownTask, task: id))
            return nil
        }
        let record = store[handle]
        guard record.state.isInFlight, Int(record.attempt) == attempt else {
            out.append(Self.ignored(.staleAttempt, task: id, tenant: tenants[Int(record.tenant)].id))
            return nil
        }
        return handle
    }

    /// Folds a job outcome into node and domain health and emits what changed.
    mutating func recordJob(on node: UInt32, failed: Bool, now: Timestamp, into out: inout [SchedulerDecision]) {
        var flips: [NodeRegistry.DomainFlip] = []
        let change = registry.recordJob(on: node, failed: failed, now: now, flips: &flips)
        emit(NodeRegistry.HealthChange(node: node, change: change), now: now, into: &out)
        for flip in flips { emit(flip, into: &out) }
    }

    func emit(_ change: NodeRegistry.HealthChange, now: Timestamp, into out: inout [SchedulerDecision]) {
        let node = registry.nodes[Int(change.node)]
        let tenant = tenants[Int(node.tenant)].id
        let score = registry.score(of: change.node, now: now)
        switch change.change {
        case .none: return
        case .quarantined: out.append(.nodeQuarantined(tenant: tenant, node: node.id, health: score))
        case .released: out.append(.nodeReleased(tenant: tenant, node: node.id, health: score))
        }
    }

    func emit(_ flip: NodeRegistry.DomainFlip, into out: inout [SchedulerDecision]) {
        let domain = registry.domains[Int(flip.domain)].domain
        out.append(flip.throttled
            ? .domainThrottled(domain, failureRate: flip.failureRate)
            : .domainRecovered(domain, failureRate: flip.failureRate))
    }

    static func failure(of outcome: TaskOutcome) -> (kind: FailureKind, reason: DecisionReason)? {
        switch outcome {
        case .succeeded, .exitCode(0): nil
        case .exitCode: (.nonZeroExit, .nonZeroExit)
        case .agentRejected: (.agentRejected, .agentRejected)
        case .timedOut: (.timeout, .timeout)
        case .nodeLost: (.nodeLost, .nodeLost)
        case .crashed: (.nodeLost, .crashed)
        }
    }
}
