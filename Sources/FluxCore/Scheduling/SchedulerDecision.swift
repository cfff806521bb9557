/// One task state change, legal by construction (the scheduler checks
/// `TaskState.canTransition(to:)` before emitting it). The runtime appends it to the task's
/// timeline and writes the new state, both under the slot's epoch.
public struct TaskTransition: Hashable, Sendable, CustomStringConvertible {
    /// The task.
    public var task: TaskID
    /// Its tenant (the runtime needs it for the slot's keys).
    public var tenant: TenantID
    /// State before.
    public var from: TaskState
    /// State after.
    public var to: TaskState
    /// Why.
    public var reason: DecisionReason

    /// Creates a transition (no legality check: use `TaskState.transition(to:)` for that).
    public init(task: TaskID, tenant: TenantID, from: TaskState, to: TaskState, reason: DecisionReason) {
        self.task = task
        self.tenant = tenant
        self.from = from
        self.to = to
        self.reason = reason
    }

    public var description: String { "\(task) \(from)->\(to) (\(reason.code))" }
}

/// An event the scheduler did not apply, and why (stale attempt, unknown task, …).
public struct IgnoredEvent: Hashable, Sendable {
    /// The task the event named, if any.
    public var task: TaskID?
    /// The tenant the event named, if any.
    public var tenant: TenantID?
    /// The node the event named, if any.
    public var node: NodeID?
    /// Why it was ignored.
    public var reason: DecisionReason
}

/// What the runtime must do. Every task state change is exactly one decision whose
/// `transition` is non-nil; the other decisions are side effects (tell an agent, update a gauge).
public enum SchedulerDecision: Hashable, Sendable {
    /// QUEUED → ADMITTED (admission passed) or RETRY_WAIT → ADMITTED (backoff over).
    case admitted(TaskTransition, priority: PriorityClass)
    /// QUEUED → REJECTED (hard limit, mode, unknown tenant).
    case rejected(TaskTransition)
    /// QUEUED → DEFERRED; admission runs again at `retryAt`.
    case deferred(TaskTransition, retryAt: Timestamp)
    /// DEFERRED → QUEUED or SUSPENDED → QUEUED, immediately followed by admission's decision.
    case requeued(TaskTransition)
    /// QUEUED → SHED (newcomer of the lowest class) or ADMITTED → SHED (displaced victim).
    case shed(TaskTransition)
    /// ADMITTED → DISPATCHED: send `attempt` to `node`; it times out at `timeoutAt`.
    case dispatched(TaskTransition, node: NodeID, attempt: Int, timeoutAt: Timestamp)
    /// DISPATCHED → RUNNING.
    case started(TaskTransition)
    /// DISPATCHED/RUNNING → RETRY_WAIT: the next attempt, number `nextAttempt`, waits until `dueAt`.
    case retryScheduled(TaskTransition, dueAt: Timestamp, nextAttempt: Int)
    /// → SUSPENDED (poison); an operator may resume it.
    case suspended(TaskTransition)
    /// → SUCCEEDED.
    case succeeded(TaskTransition)
    /// → FAILED: attempts for the failure kind in `reason` are exhausted.
    case failed(TaskTransition)
    /// → DEADLINE_EXCEEDED.
    case deadlineExceeded(TaskTransition)
    /// → CANCELLED.
    case cancelled(TaskTransition)
    /// Tell the agent on `node` to stop `attempt` (cancel, deadline or timeout while in flight).
    case cancelDispatched(task: TaskID, tenant: TenantID, node: NodeID, attempt: Int)
    /// The node's score fell below the quarantine threshold: no new dispatches to it.
    case nodeQuarantined(tenant: TenantID, node: NodeID, health: HealthScore)
    /// The node's score rose above the release threshold.
    case nodeReleased(tenant: TenantID, node: NodeID, health: HealthScore)
    /// The domain's failure rate crossed the threshold: dispatches into it are rate-limited.
    case domainThrottled(FailureDomain, failureRate: Double)
    /// The domain's failure rate fell below the recovery threshold.
    case domainRecovered(FailureDomain, failureRate: Double)
    /// The mode changed.
    case modeChanged(from: SchedulerMode, to: SchedulerMode, reason: DecisionReason)
    /// The tenant and `forgottenTasks` tasks were dropped from memory (no state change).
    case tenantRemoved(TenantID, forgottenTasks: Int)
    /// The event was not applied (stale attempt, unknown task, duplicate, …).
    case eventIgnored(IgnoredEvent)

    /// The task state change this decision carries, if any.
    public var transition: TaskTransition? {
        switch self {
        case .admitted(let t, _), .rejected(let t), .deferred(let t, _), .requeued(let t), .shed(let t),
             .dispatched(let t, _, _, _), .started(let t), .retryScheduled(let t, _, _), .suspended(let t),
             .succeeded(let t), .failed(let t), .deadlineExceeded(let t), .cancelled(let t):
            t
        default:
            nil
        }
    }

    /// The reason, for metrics labels (`admissions by decision`) and logs.
    public var reason: DecisionReason? {
        switch self {
        case .modeChanged(_, _, let reason): reason
        case .eventIgnored(let ignored): ignored.reason
        case .nodeQuarantined: .healthBelowQuarantine
        case .nodeReleased: .healthAboveRelease
        case .domainThrottled: .domainFailureRateHigh
        case .domainRecovered: .domainFailureRateRecovered
        case .tenantRemoved: .tenantRemoved
        case .cancelDispatched: nil
        default: transition?.reason
        }
    }
}
