/// Read-only views of the scheduler for `explain`, the debug snapshot and metrics. They are
/// values: computing one never changes the scheduler.

/// One tenant's queues and budgets.
public struct QueueSnapshot: Hashable, Sendable {
    /// The tenant.
    public var tenant: TenantID
    /// Waiting tasks per base class, index 0 = P0 (`flux_queue_depth`).
    public var waitingByClass: [Int]
    /// Effective class after aging of each class's head (nil if empty).
    public var headEffectiveClass: [Int?]
    /// Age of the oldest waiting task (`flux_queue_oldest_task_age_seconds`).
    public var oldestWaitingAge: Duration?
    /// Waiting + backing off + deferred.
    public var queued: Int
    /// Queued + in flight, and its limit `maxQueued`.
    public var outstanding: Int, maxQueued: Int
    /// In flight, and its limit.
    public var inFlight: Int, maxInFlight: Int
    /// CPU units committed (queued + in flight), and the budget.
    public var cpuCommitted: Int, cpuBudget: Int
    /// Fair-share weight.
    public var weight: Int
}

/// One node's health and load.
public struct NodeSnapshot: Hashable, Sendable {
    /// Owner tenant.
    public var tenant: TenantID
    /// Node name.
    public var node: NodeID
    /// Failure domains.
    public var zone: FailureDomain, rack: FailureDomain
    /// Slots and their use.
    public var capacity: Int, inFlight: Int
    /// Session state.
    public var isConnected: Bool
    /// Quarantine flag.
    public var isQuarantined: Bool
    /// Score and components.
    public var health: HealthScore
    /// Failed jobs in a row.
    public var consecutiveFailures: Int
}

/// One failure domain (`flux_domain_failure_rate`).
public struct DomainSnapshot: Hashable, Sendable {
    /// The domain.
    public var domain: FailureDomain
    /// EWMA failure rate, faded to now.
    public var failureRate: Double
    /// Whether dispatches into it are rate-limited.
    public var isThrottled: Bool
    /// Tokens available now (meaningful while throttled).
    public var tokens: Int
    /// Nodes in it.
    public var nodes: Int
}

/// The mode and what drives it.
public struct ModeSnapshot: Hashable, Sendable {
    /// Current mode (`flux_scheduler_mode`).
    public var mode: SchedulerMode
    /// The operator's override, if set.
    public var override: SchedulerMode?
    /// Automatic triggers currently active.
    public var queueDepthHigh: Bool, redisLatencyHigh: Bool, redisUnreachable: Bool
    /// The shard's own lag is above its threshold (`overload_shard`).
    public var shardOverloaded: Bool
}

/// Where a held task is and why (`GET …/tasks/{id}/explain`).
public struct TaskExplanation: Hashable, Sendable {
    /// The task and its tenant.
    public var task: TaskID, tenant: TenantID
    /// Current state.
    public var state: TaskState
    /// The reason of the last decision about it.
    public var lastReason: DecisionReason
    /// Base class, and effective class now if waiting.
    public var priority: PriorityClass, effectivePriority: PriorityClass?
    /// Latest attempt number (0 before the first dispatch).
    public var attempt: Int
    /// Node of the current attempt, if in flight.
    public var node: NodeID?
    /// Timeout (in flight) or due time (backoff, deferral).
    public var timerAt: Timestamp?
    /// Deadline, if any.
    public var deadline: Timestamp?
    /// Waiting tasks of the tenant: how much the task competes with inside its tenant.
    public var tenantWaiting: Int
    /// One line for humans.
    public var summary: String
}

/// Totals for metrics and the bench.
public struct SchedulerCounters: Hashable, Sendable {
    /// Waiting (ADMITTED) tasks.
    public var waiting: Int
    /// Tasks held in any state.
    public var held: Int
    /// Tasks in flight.
    public var inFlight: Int
    /// Configured tenants.
    public var tenants: Int
    /// Connected nodes.
    public var connectedNodes: Int
    /// Quarantined nodes.
    public var quarantinedNodes: Int
    /// Throttled failure domains.
    public var throttledDomains: Int
}

/// Bytes reserved by the scheduler's task storage, computed from capacities and strides.
public struct StorageFootprint: Hashable, Sendable {
    /// Task record slab, free list and id index.
    public var taskStorageBytes: Int
    /// Waiting FIFOs and arrival deques.
    public var queueBytes: Int
    /// Timer heaps.
    public var timerBytes: Int
    /// Sum of the above.
    public var totalBytes: Int { taskStorageBytes + queueBytes + timerBytes }
}
