import FluxAPI
import FluxCore
import FluxRuntime
import Logging

extension DriverLoop {
    /// Turns core decisions into this turn's work: a fenced transition for every task state
    /// change, agent messages for dispatch and cancel, logs for the rest.
    mutating func apply(_ decisions: [SchedulerDecision], nowMs: Int64) {
        for decision in decisions {
            if let transition = decision.transition {
                record(decision, transition, nowMs: nowMs)
            } else {
                note(decision)
            }
        }
    }

    private mutating func record(_ decision: SchedulerDecision, _ t: TaskTransition, nowMs: Int64) {
        let id = t.task.rawValue
        var request = TransitionRequest(
            slot: Slotting.slot(forTenant: t.tenant.rawValue, slotCount: driver.configuration.slotCount),
            taskID: id, expected: [t.from.rawValue], to: t.to.rawValue, reason: t.reason.code,
            terminal: t.to.isTerminal)
        shape(&request, for: decision, nowMs: nowMs)
        if request.node == nil, let attempt = turnWork.attempts[id] {
            request.node = attempt.node
            request.attempt = attempt.attempt
        } else if request.node == nil, t.from.isInFlight, let explanation = scheduler.explain(task: t.task, now: Timestamp(milliseconds: nowMs)) {
            // Decided by the clock (timeout, deadline): name the attempt it ended.
            request.node = explanation.node?.rawValue
            request.attempt = explanation.attempt
        }
        if t.from == .queued, let ingest = ingestEntries.removeValue(forKey: id) {
            request.ingestEntry = ingest.entry
        }
        if let result = turnWork.results[id], t.from.isInFlight {
            request.fields += result
        }
        if t.from.isInFlight, let node = request.node {
            // The outcome of an attempt moved the node's health.
            dirtyNodes.insert(NodeKey(tenant: t.tenant.rawValue, node: node))
        }
        request.fields += detailFields(for: decision, t, nowMs: nowMs)
        count(t)
        let level: Logger.Level = t.to == .suspended ? .warning : .debug
        if logger.logLevel <= level {
            var metadata = taskMetadata(task: id, tenant: t.tenant.rawValue)
            metadata["from"] = "\(t.from)"
            metadata["to"] = "\(t.to)"
            metadata["reason"] = "\(t.reason.code)"
            if let node = request.node { metadata["node"] = "\(node)" }
            logger.log(level: level, "task transition", metadata: metadata)
        }
        turnWork.requests.append(request)
        turnWork.tenants.append(t.tenant.rawValue)
    }

    /// Failure outcomes by reason, for the debug snapshot.
    private mutating func count(_ t: TaskTransition) {
        switch t.reason {
        case .timeout, .nonZeroExit, .nodeLost, .agentRejected, .crashed, .poison:
            failureCounters[t.reason.code, default: 0] += 1
        default:
            break
        }
    }

    /// Where the task goes among ready/delayed/inflight, and the fields the change sets.
    private mutating func shape(_ request: inout TransitionRequest, for decision: SchedulerDecision, nowMs: Int64) {
        switch decision {
        case .admitted(_, let priority):
            request.queue = .ready(score: ReadyScore.score(priority: priority.index, enqueuedAtMs: nowMs))
            request.fields.append(("enqueued_ms", String(nowMs)))
        case .deferred(_, let retryAt):
            request.queue = .delayed(dueMs: retryAt.milliseconds)
            request.fields.append(("due_ms", String(retryAt.milliseconds)))
        case .requeued:
            // QUEUED again (deferral over, or resumed): parked in `delayed` due now, so a
            // rebuild finds it and runs admission again.
            request.queue = .delayed(dueMs: nowMs)
        case .dispatched(let t, let node, let attempt, let timeoutAt):
            backpressure.dispatched(atMs: nowMs)
            request.queue = .inflight(deadlineMs: timeoutAt.milliseconds)
            request.node = node.rawValue
            request.attempt = attempt
            request.fields += [("attempt", String(attempt)), ("assigned_node", node.rawValue)]
            turnWork.dispatches[turnWork.requests.count] = (
                NodeKey(tenant: t.tenant.rawValue, node: node.rawValue), Int(max(1, timeoutAt.milliseconds - nowMs)))
        case .started:
            request.queue = .keep
        case .retryScheduled(_, let dueAt, _):
            request.queue = .delayed(dueMs: dueAt.milliseconds)
            request.fields.append(("due_ms", String(dueAt.milliseconds)))
        case .suspended:
            request.queue = .parked
        default:
            request.queue = .none
        }
    }

    /// The metadata every log line about a task carries: task, tenant, shard and the epoch of
    /// the tenant's slot lease (`-` when the slot is not held).
    func taskMetadata(task: String, tenant: String) -> Logger.Metadata {
        let slot = Slotting.slot(forTenant: tenant, slotCount: driver.configuration.slotCount)
        let epoch = driver.leases.lease(forSlot: slot).map { String($0.epoch) } ?? "-"
        return ["task": "\(task)", "tenant": "\(tenant)", "shard": "\(driver.configuration.shardID)", "epoch": "\(epoch)"]
    }

    private mutating func note(_ decision: SchedulerDecision) {
        switch decision {
        case .cancelDispatched(let task, let tenant, let node, let attempt):
            let key = NodeKey(tenant: tenant.rawValue, node: node.rawValue)
            turnWork.messages.append((.cancel(.init(taskId: task.rawValue, attempt: attempt)), key))
        case .nodeQuarantined(let tenant, let node, let health):
            dirtyNodes.insert(NodeKey(tenant: tenant.rawValue, node: node.rawValue))
            nodeHealthUrgent = true
            logger.warning("node quarantined", metadata: ["node": "\(tenant)/\(node)", "tenant": "\(tenant)", "score": "\(health.value)"])
        case .nodeReleased(let tenant, let node, let health):
            dirtyNodes.insert(NodeKey(tenant: tenant.rawValue, node: node.rawValue))
            nodeHealthUrgent = true
            logger.notice("node released from quarantine", metadata: ["node": "\(tenant)/\(node)", "tenant": "\(tenant)", "score": "\(health.value)"])
        case .domainThrottled(let domain, let rate):
            logger.warning("failure domain throttled", metadata: ["domain": "\(domain)", "failure_rate": "\(rate)"])
        case .domainRecovered(let domain, let rate):
            logger.notice("failure domain recovered", metadata: ["domain": "\(domain)", "failure_rate": "\(rate)"])
        case .modeChanged(let from, let to, let reason):
            logger.warning("scheduler mode changed", metadata: ["from": "\(from)", "to": "\(to)", "reason": "\(reason.code)"])
        case .eventIgnored(let ignored):
            var metadata = taskMetadata(task: ignored.task?.rawValue ?? "-", tenant: ignored.tenant?.rawValue ?? "-")
            metadata["reason"] = "\(ignored.reason.code)"
            logger.debug("event ignored", metadata: metadata)
        default:
            break
        }
    }
}
