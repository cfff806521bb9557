/// Why a decision was taken: a stable machine-readable `code` for the timeline, metrics and
/// `explain`, plus a human sentence. Codes never change once released; new reasons are added.
public enum DecisionReason: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    // Admission
    case admitted, readOnly, modeDegraded, unknownTenant, tenantQuotaQueued, tenantQuotaInFlight
    case cpuBudget, domainThrottled, queueFull, queueFullDisplaced, queueFullOverShare, deadlinePassed
    // Life of an admitted task
    case dispatched, started, succeeded, retryDue, deferredRetry, resumed, cancelRequested
    case deadline, poison, tenantRemoved
    // Failures (retry or final)
    case timeout, nonZeroExit, nodeLost, agentRejected, crashed
    // Nodes, domains, modes
    case healthBelowQuarantine, healthAboveRelease, domainFailureRateHigh, domainFailureRateRecovered
    case manualOverride, overrideCleared, overloadQueueDepth, overloadRedisLatency, overloadShard, redisUnreachable
    case overloadCleared
    // Ignored events
    case staleAttempt, unknownTask, duplicateTask, unknownNode, notApplicable, restoredTask

    /// Stable snake_case code, e.g. `tenant_quota_queued`.
    public var code: String {
        switch self {
        case .admitted: "admitted"
        case .readOnly: "read_only"
        case .modeDegraded: "mode_degraded"
        case .unknownTenant: "unknown_tenant"
        case .tenantQuotaQueued: "tenant_quota_queued"
        case .tenantQuotaInFlight: "tenant_quota_in_flight"
        case .cpuBudget: "cpu_budget"
        case .domainThrottled: "domain_throttled"
        case .queueFull: "queue_full"
        case .queueFullDisplaced: "queue_full_displaced"
        case .queueFullOverShare: "queue_full_over_share"
        case .deadlinePassed: "deadline_passed"
        case .dispatched: "dispatched"
        case .started: "started"
        case .succeeded: "succeeded"
        case .retryDue: "retry_due"
        case .deferredRetry: "deferred_retry"
        case .resumed: "resumed"
        case .cancelRequested: "cancel_requested"
        case .deadline: "deadline"
        case .poison: "poison"
        case .tenantRemoved: "tenant_removed"
        case .timeout: "timeout"
        case .nonZeroExit: "non_zero_exit"
        case .nodeLost: "node_lost"
        case .agentRejected: "agent_rejected"
        case .crashed: "crashed"
        case .healthBelowQuarantine: "health_below_quarantine"
        case .healthAboveRelease: "health_above_release"
        case .domainFailureRateHigh: "domain_failure_rate_high"
        case .domainFailureRateRecovered: "domain_failure_rate_recovered"
        case .manualOverride: "manual_override"
        case .overrideCleared: "override_cleared"
        case .overloadQueueDepth: "overload_queue_depth"
        case .overloadRedisLatency: "overload_redis_latency"
        case .overloadShard: "overload_shard"
        case .redisUnreachable: "redis_unreachable"
        case .overloadCleared: "overload_cleared"
        case .staleAttempt: "stale_attempt"
        case .unknownTask: "unknown_task"
        case .duplicateTask: "duplicate_task"
        case .unknownNode: "unknown_node"
        case .notApplicable: "not_applicable"
        case .restoredTask: "restored"
        }
    }

    /// A sentence for `explain` and logs.
    public var message: String {
        switch self {
        case .admitted: "admitted and waiting for a node"
        case .readOnly: "the scheduler is read-only: submissions are refused"
        case .modeDegraded: "the scheduler is degraded by overload: only urgent classes are admitted"
        case .unknownTenant: "the tenant is not configured on this shard"
        case .tenantQuotaQueued: "the tenant has reached its maximum of queued tasks"
        case .tenantQuotaInFlight: "the tenant may run no tasks (maximum in flight is 0)"
        case .cpuBudget: "the task's CPU cost would exceed the tenant's CPU budget"
        case .domainThrottled: "every eligible node is in a throttled failure domain; admission retries later"
        case .queueFull: "the queue is full and this task is of the lowest class present"
        case .queueFullDisplaced: "the queue is full; this newer lower-class task made room for a more urgent one"
        case .queueFullOverShare: "the queue is full and this task's tenant held more than its fair share of it: it made room for a tenant within its share"
        case .deadlinePassed: "the deadline had already passed at submission"
        case .dispatched: "sent to a node"
        case .started: "the agent started it"
        case .succeeded: "exited 0"
        case .retryDue: "backoff over: waiting for a node again"
        case .deferredRetry: "deferral over: admission runs again"
        case .resumed: "resumed by an operator"
        case .cancelRequested: "cancelled on request"
        case .deadline: "the deadline passed"
        case .poison: "attempts crashed or lost on too many distinct nodes: suspended as poison"
        case .tenantRemoved: "the tenant left this shard"
        case .timeout: "the attempt timed out"
        case .nonZeroExit: "the command exited non-zero"
        case .nodeLost: "the node was lost during the attempt"
        case .agentRejected: "the agent refused the task"
        case .crashed: "the agent crashed during the attempt"
        case .healthBelowQuarantine: "health score fell below the quarantine threshold"
        case .healthAboveRelease: "health score rose above the release threshold"
        case .domainFailureRateHigh: "the domain's failure rate rose above the threshold: dispatches rate-limited"
        case .domainFailureRateRecovered: "the domain's failure rate fell below the recovery threshold"
        case .manualOverride: "set by an operator"
        case .overrideCleared: "operator override cleared: automatic mode"
        case .overloadQueueDepth: "queue depth above the high-water mark"
        case .overloadRedisLatency: "Redis latency above the threshold"
        case .overloadShard: "the shard's own work waits too long: the shard is saturated"
        case .redisUnreachable: "Redis is unreachable"
        case .overloadCleared: "overload cleared"
        case .staleAttempt: "the event names an attempt that is not the current one"
        case .unknownTask: "the scheduler holds no such task"
        case .duplicateTask: "a task with this id is already held"
        case .unknownNode: "no such node"
        case .notApplicable: "the event does not apply to the task's current state"
        case .restoredTask: "rebuilt from the durable record"
        }
    }

    public var description: String { code }

    /// The reason naming a failure kind.
    static func failure(_ kind: FailureKind, crashed: Bool = false) -> DecisionReason {
        switch kind {
        case .timeout: .timeout
        case .nonZeroExit: .nonZeroExit
        case .nodeLost: crashed ? .crashed : .nodeLost
        case .agentRejected: .agentRejected
        }
    }
}
