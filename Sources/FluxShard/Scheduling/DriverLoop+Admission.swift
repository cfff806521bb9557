import FluxAPI
import FluxCore
import FluxRuntime

extension DriverLoop {
    /// Runs admission for one ingested submission. Entries whose record is gone or no longer
    /// QUEUED (already handled before a crash) are only acknowledged.
    mutating func admit(_ task: IngestedTask, nowMs: Int64) {
        guard task.fields["state"] == "QUEUED", let spec = Self.spec(id: task.taskID, fields: task.fields) else {
            turnWork.leftoverAcks.append((task.slot, task.entryID))
            return
        }
        ingestEntries[task.taskID] = (task.slot, task.entryID)
        apply(scheduler.handle(.taskSubmitted(spec), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
        // Admission decided nothing durable for it (e.g. ignored as a duplicate): ack it anyway.
        if let leftover = ingestEntries.removeValue(forKey: task.taskID) {
            turnWork.leftoverAcks.append(leftover)
        }
    }

    /// The core's scheduling view of a task record; nil when the record is damaged.
    static func spec(id: String, fields: [String: String]) -> TaskSpec? {
        guard let taskID = try? TaskID(id), let tenant = fields["tenant"].flatMap({ try? TenantID($0) }),
              let priority = fields["priority"].flatMap(Int.init).flatMap({ try? PriorityClass($0) })
        else { return nil }
        let timeoutMs = fields["timeout_ms"].flatMap(Int64.init) ?? Int64(TaskLimits.defaultTimeoutMs)
        return TaskSpec(
            id: taskID, tenant: tenant, priority: priority, cpuCost: fields["cpu_cost"].flatMap(Int.init) ?? 1,
            target: target(fields), timeout: .milliseconds(timeoutMs),
            deadline: fields["deadline_ms"].flatMap(Int64.init).map(Timestamp.init(milliseconds:)),
            retryPolicy: retryPolicy(TaskRecord.decode(RetrySpec.self, fields["retry"])),
            exitCodeIsAnswer: fields["kind"] == "check")
    }

    static func target(_ fields: [String: String]) -> PlacementTarget {
        if let node = fields["node"].flatMap({ try? NodeID($0) }) { return .node(node) }
        let selector = TaskRecord.decode([String: String].self, fields["selector"]) ?? [:]
        return selector.isEmpty ? .any : .selector(LabelSelector(selector))
    }

    /// A tenant's retry spec applies to every failure type; without one the core's per-type
    /// defaults hold (docs/scheduler-design.md).
    static func retryPolicy(_ spec: RetrySpec?) -> RetryPolicy {
        guard let spec else { return .default }
        let kind = BackoffPolicy.Kind(rawValue: spec.backoff) ?? .exponential
        let policy = BackoffPolicy(
            kind: kind, baseDelay: .milliseconds(spec.baseDelayMs), maxDelay: .milliseconds(spec.maxDelayMs),
            maxAttempts: spec.maxAttempts, jitter: kind == .none ? 0 : 0.1)
        return RetryPolicy(timeout: policy, nonZeroExit: policy, nodeLost: policy, agentRejected: policy)
    }
}
