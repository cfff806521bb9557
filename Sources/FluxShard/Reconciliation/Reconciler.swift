import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime
import Logging

/// The shard's reconciliation engine: every `reconcileInterval` it walks the desired states of
/// the slots it owns and moves each (item, node) pair one step (docs/reconciliation.md).
///
/// It is a thin executor around the pure `ReconcilePlanner`: load the records and the results of
/// the tasks they wait for, plan, submit the planned checks and applies through the ordinary
/// submit path (so they are admitted, fair-queued and fenced like every task), then write the
/// records and timelines fenced by the slot lease. All of its state is in Redis, which is why a
/// new owner continues where a crashed one stopped: the same records plan the same work, and the
/// same work names the same task.
struct Reconciler: Sendable {
    let services: ShardServices
    let store: DesiredStore
    let logger: Logger

    init(services: ShardServices, logger: Logger) {
        self.services = services
        self.store = DesiredStore(redis: services.redis, slotCount: services.configuration.slotCount)
        self.logger = logger
    }

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: services.configuration.reconcileInterval)
            guard !services.driver.isReadOnly else { continue }
            await round()
        }
    }

    /// One pass over every desired state of every active slot.
    func round() async {
        var fleets: [String: [NodeView]] = [:]
        var gauges: [(tenant: String, item: String, state: String, count: Int)] = []
        let bySlot: [Int: [DesiredStore.Loaded]]
        do {
            bySlot = try await store.load(slots: services.driver.activeSlots)
        } catch {
            return logger.warning("reconciliation round skipped", metadata: ["error": "\(error)"])
        }
        for (slot, items) in bySlot.sorted(by: { $0.key < $1.key }) {
            guard let lease = services.leases.lease(forSlot: slot) else { continue }
            do {
                for loaded in items {
                    let tenant = loaded.item.tenant
                    if fleets[tenant] == nil { fleets[tenant] = await services.driver.nodes(tenant: tenant) }
                    let plan = try await reconcile(loaded, fleet: fleets[tenant] ?? [], lease: lease)
                    for (state, count) in plan.summary { gauges.append((tenant, loaded.item.name, state.rawValue, count)) }
                }
            } catch {
                logger.warning("reconciliation round skipped a slot", metadata: ["slot": "\(slot)", "error": "\(error)"])
            }
        }
        services.metrics.desiredNodes(gauges)
    }

    /// One step of one desired state; returns the plan it carried out.
    func reconcile(_ loaded: DesiredStore.Loaded, fleet: [NodeView], lease: SlotLeases.Lease) async throws -> ReconcilePlan {
        let item = loaded.item
        let nodes = fleet.filter { item.spec.selects(node: $0.node, zone: $0.zone, labels: $0.labels) }
            .map { ReconcileNode(id: $0.node, zone: $0.zone, available: $0.connected && !$0.quarantined) }
        let results = try await store.results(tenant: item.tenant, taskIDs: loaded.records.values.compactMap(\.taskID))
        let nowMs = services.nowMs()
        let plan = ReconcilePlanner.plan(
            policy: Self.policy(item), nodes: nodes, states: loaded.records, results: results, nowMs: nowMs,
            name: { DesiredStore.taskID(uid: item.uid, work: $0) })
        // Tasks first, records second: a crash in between re-plans the same work from the old
        // records, and the same work names the same task, so nothing runs twice.
        for (work, taskID) in plan.submissions { try await submit(work, taskID: taskID, item: item, nowMs: nowMs) }
        if !plan.changed.isEmpty || !plan.transitions.isEmpty {
            guard try await store.writeStep(plan, item: item, lease: lease, shard: services.shardID, nowMs: nowMs) else {
                logger.info("reconciliation step not written (slot lease lost or item deleted)", metadata: ["desired": "\(item.name)"])
                return plan
            }
        }
        record(plan, item: item)
        return plan
    }

    private func submit(_ work: ReconcileWork, taskID: String, item: DesiredStore.Item, nowMs: Int64) async throws {
        let spec = item.spec
        let isApply = work.kind == .apply
        let deadlineSeconds = isApply
            ? 2 * spec.applyTimeoutSeconds
            : spec.checkTimeoutSeconds + max(spec.verifyEverySeconds, min(spec.intervalSeconds, 300))
        let submission = spec.submission(apply: isApply, node: work.node, deadlineAfterMs: deadlineSeconds * 1_000)
        let outcome: TaskStore.SubmitOutcome
        do {
            outcome = try await services.tasks.submit(
                tenant: item.tenant, submission: submission, idempotencyKey: DesiredStore.idempotencyKey(uid: item.uid, work: work),
                taskID: taskID, nowMs: nowMs, origin: TaskOrigin(kind: work.kind.rawValue, desired: item.name))
        } catch let refusal as TaskStore.DoorRefusal {
            // Reconciliation is the tenant's work like any other: over its rate or quota, the task
            // is not written; the planner sees it missing (check_error / apply_not_run) and retries.
            logger.notice("reconciliation task refused at the door", metadata: [
                "desired": "\(item.name)", "node": "\(work.node)", "refusal": "\(refusal)",
            ])
            return
        }
        if case .conflict(let other) = outcome {
            logger.error("reconciliation task id taken", metadata: ["task": "\(taskID)", "other": "\(other)", "desired": "\(item.name)"])
        }
    }

    /// Metrics and log lines of a written plan.
    private func record(_ plan: ReconcilePlan, item: DesiredStore.Item) {
        for event in plan.events {
            switch event {
            case .driftDetected: services.metrics.driftDetected(tenant: item.tenant)
            case .remediation(_, let outcome): services.metrics.remediation(outcome: outcome)
            case .reconciled(_, let milliseconds): services.metrics.reconciled(milliseconds: milliseconds)
            }
        }
        for transition in plan.transitions where transition.from != transition.to {
            logger.info("desired state transition", metadata: [
                "tenant": "\(item.tenant)", "desired": "\(item.name)", "node": "\(transition.node)",
                "from": "\(transition.from?.rawValue ?? "")", "to": "\(transition.to.rawValue)", "reason": "\(transition.reason.rawValue)",
                "task": "\(transition.taskID ?? "")",
            ])
        }
    }

    static func policy(_ item: DesiredStore.Item) -> ReconcilePolicy {
        let spec = item.spec
        let retry = spec.retry ?? RetrySpec(maxAttempts: 5, backoff: "exponential", baseDelayMs: 10_000, maxDelayMs: 600_000)
        return ReconcilePolicy(
            generation: item.generation, intervalMs: Int64(spec.intervalSeconds) * 1_000,
            verifyDeadlineMs: Int64(spec.verifyDeadlineSeconds) * 1_000, verifyEveryMs: Int64(spec.verifyEverySeconds) * 1_000,
            maxParallel: spec.maxParallel, maxParallelPerDomain: spec.maxParallelPerDomain,
            haltDomainAfterFailures: spec.haltDomainAfterFailures,
            retry: BackoffPolicy(
                kind: BackoffPolicy.Kind(rawValue: retry.backoff) ?? .exponential, baseDelay: .milliseconds(retry.baseDelayMs),
                maxDelay: .milliseconds(retry.maxDelayMs), maxAttempts: retry.maxAttempts, jitter: 0.1),
            paused: spec.paused, checkRequestedAtMs: item.checkRequestedAtMs)
    }
}
