import FluxAPI
import FluxCore
import FluxRuntime

extension DriverLoop {
    /// The mode and its triggers, with the latency p99 the core last heard.
    func modeView() -> SchedulerModeView {
        let snapshot = scheduler.modeSnapshot
        let nowMs = WallClock.nowMs()
        var view = SchedulerModeView(
            mode: snapshot.mode.rawValue, override: snapshot.override?.rawValue, queueDepthHigh: snapshot.queueDepthHigh,
            redisLatencyHigh: snapshot.redisLatencyHigh, redisUnreachable: snapshot.redisUnreachable,
            redisLatencyP99Ms: driver.redisProbe.p99(nowMs: nowMs).map { $0.seconds * 1_000 })
        view.shardOverloaded = snapshot.shardOverloaded
        view.shardLagP99Ms = lag.p99(nowMs: nowMs).map { $0.seconds * 1_000 }
        return view
    }

    /// `GET /scheduler/debug/snapshot`.
    func snapshot(now: Timestamp) -> SchedulerSnapshotView {
        let counters = scheduler.counters
        let domains = domainViews(now: now)
        var quarantined: [QuarantinedNodeView] = []
        var tenants: [TenantQueueView] = []
        for queue in scheduler.queueSnapshots(now: now) {
            tenants.append(tenantView(queue))
            for node in scheduler.nodeSnapshots(tenant: queue.tenant, now: now) where node.isQuarantined {
                quarantined.append(QuarantinedNodeView(
                    tenant: queue.tenant.rawValue, node: node.node.rawValue, score: node.health.value,
                    observedFailureRate: node.health.failureRate, consecutiveFailures: node.consecutiveFailures))
            }
        }
        return SchedulerSnapshotView(
            shard: driver.configuration.shardID, atMs: now.milliseconds, mode: modeView(), slotsOwned: driver.activeSlots.count,
            agentsConnected: driver.sessions.count, heldTasks: counters.held, waitingTasks: counters.waiting,
            inFlightTasks: counters.inFlight, tenants: tenants, failureCounters: failureCounters,
            quarantinedNodes: quarantined, domains: domains)
    }

    func tenantView(_ queue: QueueSnapshot) -> TenantQueueView {
        let heads = queue.waitingByClass.indices.compactMap { index -> QueueHeadView? in
            guard queue.waitingByClass[index] > 0, let effective = queue.headEffectiveClass[index] else { return nil }
            return QueueHeadView(priority: index, waiting: queue.waitingByClass[index], effectivePriority: effective)
        }
        return TenantQueueView(
            tenant: queue.tenant.rawValue, waiting: queue.waitingByClass.reduce(0, +),
            oldestWaitingAgeMs: queue.oldestWaitingAge?.milliseconds, heads: heads, budgets: Self.budgets(queue))
    }

    static func budgets(_ queue: QueueSnapshot) -> [BudgetUse] {
        [BudgetUse(name: "queued", used: queue.outstanding, limit: queue.maxQueued),
         BudgetUse(name: "in_flight", used: queue.inFlight, limit: queue.maxInFlight),
         BudgetUse(name: "cpu", used: queue.cpuCommitted, limit: queue.cpuBudget)]
    }

    func domainViews(now: Timestamp) -> [DomainView] {
        let configuration = scheduler.configuration.domains
        return scheduler.domainSnapshots(now: now).map { domain in
            DomainView(
                domain: domain.domain.description, failureRate: domain.failureRate, throttleAbove: configuration.throttleAbove,
                recoverBelow: configuration.recoverBelow, throttled: domain.isThrottled, tokens: domain.tokens, nodes: domain.nodes)
        }
    }

    /// Sets the state gauges from the core (called when `/metrics` is scraped).
    func refreshGauges(now: Timestamp) {
        let metrics = driver.metrics
        let counters = scheduler.counters
        metrics.mode.record(driver.redisIsDown ? SchedulerMode.readOnly.gaugeValue : scheduler.mode.gaugeValue)
        metrics.agentsConnected.record(driver.sessions.count)
        metrics.quarantinedNodes.record(counters.quarantinedNodes)
        metrics.slotsOwned.record(driver.leases.slots.count)
        metrics.heldTasks.record(counters.held)
        metrics.queues(scheduler.queueSnapshots(now: now).map { queue in
            let age = queue.oldestWaitingAge.map { Double($0.milliseconds) / 1_000 } ?? 0
            return (queue.tenant.rawValue, queue.waitingByClass.reduce(0, +), age)
        })
        metrics.domains(scheduler.domainSnapshots(now: now).map { ($0.domain.description, $0.failureRate, $0.isThrottled) })
    }
}
