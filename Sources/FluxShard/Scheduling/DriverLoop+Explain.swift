import FluxAPI
import FluxCore

extension DriverLoop {
    /// `explain` for a task the core holds: its state and last reason from the core, and what
    /// blocks it from the node, domain and tenant views. Nil when the core does not hold it.
    func explanation(_ query: ExplainQuery, now: Timestamp) -> TaskExplanationView? {
        guard let id = try? TaskID(query.taskID), let tenant = try? TenantID(query.tenant),
              let core = scheduler.explain(task: id, now: now), core.tenant == tenant
        else { return nil }
        let queue = scheduler.queueSnapshot(tenant: tenant, now: now)
        let blockers = blockers(of: core, query: query, queue: queue, now: now)
        let timerIn = core.timerAt.map { max(0, $0.milliseconds - now.milliseconds) }
        return TaskExplanationView(
            taskId: query.taskID, tenant: query.tenant, state: core.state.rawValue, reason: core.lastReason.code,
            reasonMessage: core.lastReason.message, summary: Self.summary(core, blockers: blockers, timerInMs: timerIn),
            source: "scheduler", priority: core.priority.index, effectivePriority: core.effectivePriority?.index,
            attempt: core.attempt, node: core.node?.rawValue, nextTimerAtMs: core.timerAt?.milliseconds, nextTimerInMs: timerIn,
            deadlineAtMs: core.deadline?.milliseconds, mode: scheduler.mode.rawValue, blockers: blockers,
            budgets: queue.map(Self.budgets) ?? [], lastTransition: nil)
    }

    private func blockers(of core: TaskExplanation, query: ExplainQuery, queue: QueueSnapshot?, now: Timestamp) -> [ExplainBlocker] {
        switch core.state {
        case .suspended:
            return [ExplainBlocker(code: "suspended", message: "suspended as poison: POST …/tasks/\(query.taskID)/resume re-queues it")]
        case .admitted:
            var found = placementBlockers(query, now: now)
            if let queue, queue.inFlight >= queue.maxInFlight {
                found.append(ExplainBlocker(
                    code: "tenant_in_flight_limit", message: "tenant \(query.tenant) has \(queue.inFlight)/\(queue.maxInFlight) tasks in flight",
                    used: queue.inFlight, limit: queue.maxInFlight))
            }
            return found
        case .deferred, .queued:
            var found = placementBlockers(query, now: now)
            if scheduler.mode != .normal {
                found.append(ExplainBlocker(code: "mode", message: "the scheduler is \(scheduler.mode): \(modeEffect(scheduler.mode))"))
            }
            return found
        default:
            return []
        }
    }

    private func modeEffect(_ mode: SchedulerMode) -> String {
        switch mode {
        case .normal: "admission as usual"
        case .degraded: "only P0–\(scheduler.configuration.degradedMaxPriority) are admitted"
        case .readOnly: "submissions are refused"
        }
    }

    /// Why no node takes the task: no matching node, all quarantined, all in throttled domains,
    /// all busy. Empty when some node could take it (it is then just waiting its turn).
    private func placementBlockers(_ query: ExplainQuery, now: Timestamp) -> [ExplainBlocker] {
        guard let tenant = try? TenantID(query.tenant) else { return [] }
        let nodes = scheduler.nodeSnapshots(tenant: tenant, now: now).filter { snapshot in
            guard snapshot.isConnected else { return false }
            if let node = query.node { return snapshot.node.rawValue == node }
            let labels = hellos[NodeKey(tenant: query.tenant, node: snapshot.node.rawValue)]?.labels ?? [:]
            return LabelSelector(query.selector).matches(labels)
        }
        guard !nodes.isEmpty else { return [ExplainBlocker(code: "no_eligible_node", message: noNodeMessage(query))] }
        let healthy = nodes.filter { !$0.isQuarantined }
        guard !healthy.isEmpty else {
            let scores = nodes.map { "\($0.node) score \(Self.twoDecimals($0.health.value))" }.joined(separator: ", ")
            let threshold = Self.twoDecimals(scheduler.configuration.health.releaseAbove)
            return [ExplainBlocker(
                code: "quarantine", message: "every matching node is quarantined (\(scores)); released above \(threshold)",
                nodes: nodes.map(\.node.rawValue))]
        }
        let domains = Dictionary(scheduler.domainSnapshots(now: now).map { ($0.domain, $0) }, uniquingKeysWith: { first, _ in first })
        let throttled = healthy.flatMap { [$0.zone, $0.rack] }.compactMap { domains[$0] }.filter(\.isThrottled)
        let allThrottled = healthy.allSatisfy { domains[$0.zone]?.isThrottled == true || domains[$0.rack]?.isThrottled == true }
        if allThrottled {
            let threshold = scheduler.configuration.domains.throttleAbove
            let perSecond = scheduler.configuration.domains.throttledDispatchesPerSecond
            return Array(Set(throttled.map(\.domain))).sorted().compactMap { domains[$0] }.map { domain in
                ExplainBlocker(
                    code: "domain_throttled",
                    message: "\(domain.domain) throttled, failure rate \(Self.twoDecimals(domain.failureRate)) > \(Self.twoDecimals(threshold)); dispatches into it limited to \(perSecond)/s",
                    domain: domain.domain.description, failureRate: domain.failureRate, threshold: threshold)
            }
        }
        if healthy.allSatisfy({ $0.inFlight >= $0.capacity }) {
            let used = healthy.reduce(0) { $0 + $1.inFlight }
            let capacity = healthy.reduce(0) { $0 + $1.capacity }
            return [ExplainBlocker(
                code: "nodes_busy", message: "every eligible node is busy (\(used)/\(capacity) slots in use)",
                nodes: healthy.map(\.node.rawValue), used: used, limit: capacity)]
        }
        return []
    }

    private func noNodeMessage(_ query: ExplainQuery) -> String {
        if let node = query.node { return "node \(node) is not connected" }
        if !query.selector.isEmpty {
            let selector = query.selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "no connected node matches selector \(selector)"
        }
        return "tenant \(query.tenant) has no connected node"
    }

    static func summary(_ core: TaskExplanation, blockers: [ExplainBlocker], timerInMs: Int64?) -> String {
        var text = "\(core.state.rawValue) (\(core.lastReason.code)): \(core.lastReason.message)"
        if let effective = core.effectivePriority {
            text += effective == core.priority ? "; competes as \(effective)" : "; competes as \(effective) after aging (base \(core.priority))"
        }
        if !blockers.isEmpty { text += ". Waiting on: " + blockers.map(\.message).joined(separator: "; ") }
        if let timerInMs {
            let seconds = max(1, (timerInMs + 999) / 1_000)
            switch core.state {
            case .retryWait: text += ". Retry in ~\(seconds) s"
            case .deferred: text += ". Next eligible in ~\(seconds) s"
            case .dispatched, .running: text += ". Times out in ~\(seconds) s"
            default: break
            }
        }
        return text + "."
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Record fields that let `explain` account for a decision after the core has let the task
    /// go: the budget and its use at the moment of a rejection, the domains behind a deferral.
    mutating func detailFields(for decision: SchedulerDecision, _ t: TaskTransition, nowMs: Int64) -> [(String, String)] {
        let now = Timestamp(milliseconds: nowMs)
        switch (decision, t.reason) {
        case (.rejected, .cpuBudget), (.rejected, .tenantQuotaQueued), (.rejected, .tenantQuotaInFlight):
            guard let queue = scheduler.queueSnapshot(tenant: t.tenant, now: now) else { return [] }
            let (name, used, limit, what): (String, Int, Int, String) = switch t.reason {
            case .cpuBudget: ("cpu", queue.cpuCommitted, queue.cpuBudget, "CPU budget")
            case .tenantQuotaQueued: ("queued", queue.outstanding, queue.maxQueued, "queued-task quota")
            default: ("in_flight", queue.inFlight, queue.maxInFlight, "in-flight quota")
            }
            return [("detail_budget", name), ("detail_used", String(used)), ("detail_limit", String(limit)),
                    ("detail", "rejected: tenant \(t.tenant) over \(what) \(used)/\(limit)")]
        case (.rejected, .readOnly), (.rejected, .modeDegraded):
            return [("detail", "rejected: the scheduler was \(scheduler.mode) (\(modeEffect(scheduler.mode)))")]
        case (.deferred, .domainThrottled):
            let throttled = scheduler.domainSnapshots(now: now).filter(\.isThrottled)
            let threshold = Self.twoDecimals(scheduler.configuration.domains.throttleAbove)
            let text = throttled.map { "\($0.domain) throttled, failure rate \(Self.twoDecimals($0.failureRate)) > \(threshold)" }
            return [("detail", "deferred: " + (text.isEmpty ? "every eligible node is in a throttled domain" : text.joined(separator: "; ")))]
        default:
            return []
        }
    }
}
