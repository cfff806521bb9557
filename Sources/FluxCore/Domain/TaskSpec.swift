/// The scheduling view of a task: everything admission and placement need, nothing more.
///
/// The command, argv and environment stay in the task record in Redis; the core never stores
/// them, which keeps its memory per waiting task small (see `docs/scheduler-design.md`).
public struct TaskSpec: Hashable, Sendable {
    /// Caller-assigned id, unique within the scheduler.
    public var id: TaskID
    /// Owning tenant.
    public var tenant: TenantID
    /// Priority class at submission.
    public var priority: PriorityClass
    /// CPU units the task costs against its tenant's CPU budget while queued or in flight.
    public var cpuCost: Int
    /// Where it may run.
    public var target: PlacementTarget
    /// How long one attempt may run before it counts as timed out.
    public var timeout: Duration
    /// Absolute deadline; past it the task ends DEADLINE_EXCEEDED wherever it is.
    public var deadline: Timestamp?
    /// Backoff and attempt limits per failure type.
    public var retryPolicy: RetryPolicy
    /// True for a reconciliation check: its exit code is the answer to "is this node in the
    /// desired state?", so a non-zero exit does not count against the node's or its zone's
    /// health (a fleet-wide drift must not quarantine the fleet). It still ends the task FAILED.
    public var exitCodeIsAnswer: Bool

    /// Creates a spec; `cpuCost` is clamped to at least 0.
    public init(
        id: TaskID,
        tenant: TenantID,
        priority: PriorityClass = .p5,
        cpuCost: Int = 1,
        target: PlacementTarget = .any,
        timeout: Duration = .seconds(60),
        deadline: Timestamp? = nil,
        retryPolicy: RetryPolicy = .default,
        exitCodeIsAnswer: Bool = false
    ) {
        self.id = id
        self.tenant = tenant
        self.priority = priority
        self.cpuCost = max(0, cpuCost)
        self.target = target
        self.timeout = timeout
        self.deadline = deadline
        self.retryPolicy = retryPolicy
        self.exitCodeIsAnswer = exitCodeIsAnswer
    }
}

/// How one attempt ended, as reported by the agent or concluded by the runtime.
public enum TaskOutcome: Hashable, Sendable {
    /// Exit code 0.
    case succeeded
    /// The command exited with a non-zero code.
    case exitCode(Int32)
    /// The agent refused the dispatch (busy, unsupported, draining).
    case agentRejected
    /// The attempt ran past its timeout (the runtime may also report this).
    case timedOut
    /// The session to the node was lost while the attempt was in flight.
    case nodeLost
    /// The agent crashed (or was killed) while running the attempt.
    case crashed
}
