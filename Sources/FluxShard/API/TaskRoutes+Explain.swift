import FluxAPI
import FluxCore
import FluxRuntime
import Hummingbird

extension TaskRoutes {
    /// `GET …/tasks/{id}/explain`: from the core while it holds the task, else from the record
    /// and its last timeline entry. Both name the last timeline entry.
    func explain(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        let id = try Self.taskID(context)
        let (record, last) = try await services.redisCall {
            (try await services.tasks.record(tenant: tenant, id: id), try await services.tasks.lastTimelineEntry(tenant: tenant, id: id))
        }
        guard let record else { throw HTTPProblem.notFound("task \(id)") }
        let query = ExplainQuery(
            tenant: tenant, taskID: id, node: record["node"],
            selector: TaskRecord.decode([String: String].self, record["selector"]) ?? [:])
        var view = await services.driver.explain(query) ?? Self.fromRecord(record, id: id, tenant: tenant, mode: services.driver.modeName, nowMs: services.nowMs())
        view.lastTransition = last
        if let kind = record["kind"], let desired = record["desired"], let node = record["node"] {
            view.reconciliation = try await reconciliation(kind: kind, desired: desired, tenant: tenant, node: node)
        }
        return try JSONBody.response(view)
    }

    /// The (desired state, node) pair a reconciliation task belongs to, as it stands now.
    private func reconciliation(kind: String, desired: String, tenant: String, node: String) async throws -> ReconciliationContext {
        let store = DesiredStore(redis: services.redis, slotCount: services.configuration.slotCount)
        let (records, timeline) = try await services.redisCall {
            (try await store.nodes(tenant: tenant, name: desired), try await store.timeline(tenant: tenant, name: desired, node: node))
        }
        return ReconciliationContext(
            kind: kind, desired: desired, nodeState: records[node].map { DesiredRoutes.nodeView(node, $0) },
            lastTransition: timeline.last)
    }

    /// Reasons whose `detail_*` fields the driver wrote at the time of the decision.
    static let detailedReasons: Set<String> = [
        "cpu_budget", "tenant_quota_queued", "tenant_quota_in_flight", "read_only", "mode_degraded", "domain_throttled",
    ]

    /// The account of a task the core does not hold: terminal, or accepted and not yet admitted.
    static func fromRecord(_ record: [String: String], id: String, tenant: String, mode: String, nowMs: Int64) -> TaskExplanationView {
        let state = record["state"] ?? "UNKNOWN"
        let reason = record["reason"] ?? ""
        let message = reasonMessage(reason)
        var blockers: [ExplainBlocker] = []
        var budgets: [BudgetUse] = []
        var summary = "\(state) (\(reason)): \(message)"
        if detailedReasons.contains(reason), let detail = record["detail"] {
            summary = "\(state) (\(reason)): \(detail)"
            let used = record["detail_used"].flatMap(Int.init)
            let limit = record["detail_limit"].flatMap(Int.init)
            blockers.append(ExplainBlocker(code: reason, message: detail, used: used, limit: limit))
            if let used, let limit, let name = record["detail_budget"] { budgets.append(BudgetUse(name: name, used: used, limit: limit)) }
        }
        if state == "QUEUED" {
            summary = "QUEUED (\(reason)): accepted and durable; admission runs when the shard reads it from the ingest stream"
            if mode != "NORMAL" { blockers.append(ExplainBlocker(code: "mode", message: "the scheduler is \(mode)")) }
        }
        let attempt = record["attempt"].flatMap(Int.init) ?? 0
        if attempt > 0, let node = record["assigned_node"] { summary += "; last attempt \(attempt) on \(node)" }
        return TaskExplanationView(
            taskId: id, tenant: tenant, state: state, reason: reason, reasonMessage: message, summary: summary + ".",
            source: "record", priority: record["priority"].flatMap(Int.init) ?? 0, effectivePriority: nil, attempt: attempt,
            node: record["assigned_node"], nextTimerAtMs: nil, nextTimerInMs: nil,
            deadlineAtMs: record["deadline_ms"].flatMap(Int64.init), mode: mode, blockers: blockers, budgets: budgets,
            lastTransition: nil)
    }

    static func reasonMessage(_ code: String) -> String {
        if code == "submitted" { return "accepted; waiting for admission" }
        return DecisionReason.allCases.first { $0.code == code }?.message ?? code
    }
}
