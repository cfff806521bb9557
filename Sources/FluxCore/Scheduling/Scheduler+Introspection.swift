/// Read-only introspection: `explain`, the debug snapshot, metrics.
extension Scheduler {
    /// Tasks held in any state (O(1), unlike `counters`).
    public var heldTasks: Int { store.count }

    /// Waiting (ADMITTED) tasks (O(1)).
    public var waitingTasks: Int { queues.total }

    /// Totals across the scheduler (walks tenants and nodes).
    public var counters: SchedulerCounters {
        SchedulerCounters(
            waiting: queues.total, held: store.count, inFlight: inFlightTotal,
            tenants: tenants.filter(\.isConfigured).count,
            connectedNodes: registry.nodes.filter { $0.isConnected && !$0.isRemoved }.count,
            quarantinedNodes: registry.quarantined.count, throttledDomains: registry.throttledDomains.count)
    }

    /// The mode and its triggers.
    public var modeSnapshot: ModeSnapshot {
        ModeSnapshot(
            mode: modes.current, override: modes.override, queueDepthHigh: modes.depthHigh,
            redisLatencyHigh: modes.latencyHigh, redisUnreachable: modes.redisUnreachable, shardOverloaded: modes.shardBusy)
    }

    /// Queues and budgets of one tenant.
    public func queueSnapshot(tenant id: TenantID, now: Timestamp) -> QueueSnapshot? {
        configuredTenant(id).map { queueSnapshot($0, now: now) }
    }

    /// Queues and budgets of every configured tenant, by tenant name.
    public func queueSnapshots(now: Timestamp) -> [QueueSnapshot] {
        tenants.indices.filter { tenants[$0].isConfigured }
            .map { queueSnapshot(UInt32($0), now: now) }
            .sorted { $0.tenant < $1.tenant }
    }

    private func queueSnapshot(_ tenant: UInt32, now: Timestamp) -> QueueSnapshot {
        var waiting: [Int] = []
        var heads: [Int?] = []
        var oldest: Int64?
        for priority in 0..<PriorityClass.count {
            waiting.append(queues.live(tenant: tenant, priority: priority))
            let head = queues.peekHead(tenant: tenant, priority: priority, store: store).map { store[$0.handle] }
            heads.append(head.map { effectiveClass(of: $0, now: now) })
            if let head { oldest = min(oldest ?? head.enqueuedAt, head.enqueuedAt) }
        }
        let state = tenants[Int(tenant)]
        let limits = state.configuration
        return QueueSnapshot(
            tenant: state.id, waitingByClass: waiting, headEffectiveClass: heads,
            oldestWaitingAge: oldest.map { .milliseconds(max(0, now.milliseconds - $0)) },
            queued: state.queued, outstanding: state.queued + state.inFlight, maxQueued: limits.maxQueued,
            inFlight: state.inFlight,
            maxInFlight: limits.maxInFlight, cpuCommitted: state.cpuCommitted, cpuBudget: limits.cpuBudget,
            weight: limits.weight)
    }

    /// Health and load of a tenant's nodes, by name.
    public func nodeSnapshots(tenant id: TenantID, now: Timestamp) -> [NodeSnapshot] {
        guard let tenant = configuredTenant(id) else { return [] }
        return registry.tenants[Int(tenant)].nodes.map { nodeSnapshot($0, now: now) }.sorted { $0.node < $1.node }
    }

    /// One node's health and load.
    public func nodeSnapshot(tenant id: TenantID, node: NodeID, now: Timestamp) -> NodeSnapshot? {
        guard let tenant = configuredTenant(id), let handle = registry.existingHandle(tenant: tenant, node: node) else {
            return nil
        }
        return nodeSnapshot(handle, now: now)
    }

    private func nodeSnapshot(_ handle: UInt32, now: Timestamp) -> NodeSnapshot {
        let node = registry.nodes[Int(handle)]
        return NodeSnapshot(
            tenant: tenants[Int(node.tenant)].id, node: node.id, zone: registry.domains[Int(node.zone)].domain,
            rack: registry.domains[Int(node.rack)].domain, capacity: Int(node.capacity), inFlight: Int(node.inFlight),
            isConnected: node.isConnected, isQuarantined: node.health.isQuarantined,
            health: registry.score(of: handle, now: now), consecutiveFailures: node.health.consecutiveFailures)
    }

    /// Every failure domain that has nodes, by name.
    public func domainSnapshots(now: Timestamp) -> [DomainSnapshot] {
        registry.domains.filter { !$0.nodes.isEmpty }.map { state in
            DomainSnapshot(
                domain: state.domain,
                failureRate: state.failureRate(at: now.milliseconds, configuration: configuration.domains),
                isThrottled: state.isThrottled, tokens: state.tokens(now: now.milliseconds), nodes: state.nodes.count)
        }.sorted { $0.domain < $1.domain }
    }

    /// Where a held task is and the last decision about it; nil once the task has left the
    /// scheduler (terminal states live in the timeline in Redis).
    public func explain(task id: TaskID, now: Timestamp) -> TaskExplanation? {
        guard let handle = store.handle(of: id) else { return nil }
        let record = store[handle]
        let waiting = record.state == .admitted
        let effective = waiting ? PriorityClass(unchecked: UInt8(effectiveClass(of: record, now: now))) : nil
        let node = record.state.isInFlight ? registry.nodes[Int(record.node)].id : nil
        let timed = record.state.isInFlight || record.state == .retryWait || record.state == .deferred
        var explanation = TaskExplanation(
            task: id, tenant: tenants[Int(record.tenant)].id, state: record.state, lastReason: record.lastReason,
            priority: PriorityClass(unchecked: record.priority), effectivePriority: effective,
            attempt: Int(record.attempt), node: node, timerAt: timed ? Timestamp(milliseconds: record.timerAt) : nil,
            deadline: record.deadline == TaskRecord.noTime ? nil : Timestamp(milliseconds: record.deadline),
            tenantWaiting: tenants[Int(record.tenant)].waiting, summary: "")
        explanation.summary = "\(record.state.rawValue) (\(record.lastReason.code)): \(record.lastReason.message)"
        return explanation
    }

    /// Bytes reserved by task storage (capacity × stride), for the bench and the debug snapshot.
    public var storageFootprint: StorageFootprint {
        let timer = MemoryLayout<TimerEntry>.stride
        return StorageFootprint(
            taskStorageBytes: store.reservedBytes, queueBytes: queues.reservedBytes,
            timerBytes: (retryTimers.count + timeoutTimers.count + deadlineTimers.count) * timer)
    }
}
