/// Everything that can happen to the scheduler. The runtime turns Redis entries, agent messages
/// and timers into events; `Scheduler.handle(_:now:)` turns them into decisions.
public enum SchedulerEvent: Hashable, Sendable {
    /// A tenant's limits were set or changed (creates the tenant on first use).
    case tenantConfigured(TenantID, TenantConfiguration)
    /// The tenant left this scheduler (its slot moved): every task and node of the tenant is
    /// forgotten without state changes, since the new owner carries on from Redis.
    case tenantRemoved(TenantID)
    /// An agent said hello, or re-announced itself with new labels, capacity or location.
    case nodeConnected(NodeDescriptor)
    /// The agent's session ended: its in-flight attempts fail as `nodeLost`.
    case nodeDisconnected(tenant: TenantID, node: NodeID)
    /// The agent's self-reported health in `[0, 1]`.
    case agentHealthReported(tenant: TenantID, node: NodeID, report: Double)
    /// The control plane's probe of the node finished.
    case probeCompleted(tenant: TenantID, node: NodeID, result: ProbeResult)
    /// A new task: admission runs.
    case taskSubmitted(TaskSpec)
    /// Rebuild after restart or slot handoff: the task is re-inserted where Redis says it is,
    /// without running admission and without emitting state changes.
    case taskRestored(TaskSpec, RestoredTask)
    /// The agent started `attempt`.
    case taskStarted(TaskID, attempt: Int)
    /// `attempt` ended with `outcome`.
    case taskFinished(TaskID, attempt: Int, outcome: TaskOutcome)
    /// Cancel wherever the task is.
    case taskCancelled(TaskID)
    /// Resume a SUSPENDED task: it goes through admission again with a fresh attempt budget.
    case taskResumed(TaskID)
    /// Time advanced: time out attempts, expire deadlines, fire due retries and deferrals, release
    /// healed nodes and domains, update the mode, then dispatch what can be dispatched.
    case tick
    /// Set (`some`) or clear (`nil`) the operator's mode override.
    case modeOverride(SchedulerMode?)
    /// The runtime's view of its own health (Redis latency and reachability).
    case overloadSignalled(OverloadSignal)
}

/// Where a restored task stands, as recorded in Redis.
public enum RestoredTask: Hashable, Sendable {
    /// Waiting for a node since `enqueuedAt`, after `attempts` earlier attempts.
    case waiting(enqueuedAt: Timestamp, attempts: Int)
    /// `attempt` is on `node` until `timeoutAt`; `running` if the agent said it started.
    case inFlight(node: NodeID, attempt: Int, timeoutAt: Timestamp, running: Bool)
    /// Backing off after `attempts` attempts until `dueAt`.
    case retryWaiting(dueAt: Timestamp, attempts: Int)
    /// Deferred by admission until `retryAt`.
    case deferred(retryAt: Timestamp)
    /// Suspended as poison after `attempts` attempts.
    case suspended(attempts: Int)
}
