/// `GET /v1/tenants/{tenant}/tasks/{id}/explain`: why a task is where it is, for people
/// (`summary`) and for programs (every other field).
///
/// `source` says where the account comes from: `scheduler` while the shard's core holds the task
/// (waiting, backing off, deferred, in flight, suspended), `record` once it does not (terminal, or
/// not yet admitted): then it is read from the task record and its last timeline entry.
public struct TaskExplanationView: Codable, Sendable, Hashable {
    public var taskId: String
    public var tenant: String
    public var state: String
    /// Machine code of the last decision (`admitted`, `cpu_budget`, `domain_throttled`, …).
    public var reason: String
    /// The human sentence for `reason`.
    public var reasonMessage: String
    /// One or two plain-language sentences: what happened and what it waits for.
    public var summary: String
    /// `scheduler` or `record`.
    public var source: String
    public var priority: Int
    /// Effective class after aging, while waiting.
    public var effectivePriority: Int?
    public var attempt: Int
    /// Node of the current (or last) attempt.
    public var node: String?
    /// Next timer: timeout while in flight, due time while backing off or deferred (Unix ms).
    public var nextTimerAtMs: Int64?
    /// Milliseconds from now until `nextTimerAtMs` (0 when due).
    public var nextTimerInMs: Int64?
    public var deadlineAtMs: Int64?
    /// The scheduler's mode now.
    public var mode: String
    /// What keeps the task from moving on, most important first (empty when nothing does).
    public var blockers: [ExplainBlocker]
    /// The tenant's budgets in use now (`scheduler`), or at the time of a rejection (`record`).
    public var budgets: [BudgetUse]
    /// The last timeline entry, when known.
    public var lastTransition: TimelineEntry?
    /// For a check or apply made by the reconciler: which desired state and where its node stands.
    public var reconciliation: ReconciliationContext?

    public init(
        taskId: String, tenant: String, state: String, reason: String, reasonMessage: String, summary: String,
        source: String, priority: Int, effectivePriority: Int?, attempt: Int, node: String?, nextTimerAtMs: Int64?,
        nextTimerInMs: Int64?, deadlineAtMs: Int64?, mode: String, blockers: [ExplainBlocker], budgets: [BudgetUse],
        lastTransition: TimelineEntry?
    ) {
        self.taskId = taskId
        self.tenant = tenant
        self.state = state
        self.reason = reason
        self.reasonMessage = reasonMessage
        self.summary = summary
        self.source = source
        self.priority = priority
        self.effectivePriority = effectivePriority
        self.attempt = attempt
        self.node = node
        self.nextTimerAtMs = nextTimerAtMs
        self.nextTimerInMs = nextTimerInMs
        self.deadlineAtMs = deadlineAtMs
        self.mode = mode
        self.blockers = blockers
        self.budgets = budgets
        self.lastTransition = lastTransition
    }
}

/// Why a reconciliation task exists and where its (desired state, node) pair stands now.
public struct ReconciliationContext: Codable, Sendable, Hashable {
    /// `check` or `apply`.
    public var kind: String
    public var desired: String
    /// The node's reconciliation record now (nil once the desired state is deleted).
    public var nodeState: DesiredNodeView?
    /// The newest entry of the (desired state, node) timeline.
    public var lastTransition: DesiredTimelineEntry?

    public init(kind: String, desired: String, nodeState: DesiredNodeView?, lastTransition: DesiredTimelineEntry?) {
        self.kind = kind
        self.desired = desired
        self.nodeState = nodeState
        self.lastTransition = lastTransition
    }
}

/// One thing holding a task back. `code` is stable: `no_eligible_node`, `quarantine`,
/// `domain_throttled`, `nodes_busy`, `tenant_in_flight_limit`, `mode`, `cpu_budget`,
/// `tenant_quota_queued`, `suspended`, `disconnected_node`.
public struct ExplainBlocker: Codable, Sendable, Hashable {
    public var code: String
    public var message: String
    /// The failure domain (`zone:zone-b`, `rack:zone-b/rack-1`) for `domain_throttled`.
    public var domain: String?
    /// Its failure rate now and the throttle threshold.
    public var failureRate: Double?
    public var threshold: Double?
    /// Nodes concerned (quarantined ones with their scores in `message`).
    public var nodes: [String]?
    /// Amount in use and limit, for budget blockers.
    public var used: Int?
    public var limit: Int?

    public init(
        code: String, message: String, domain: String? = nil, failureRate: Double? = nil, threshold: Double? = nil,
        nodes: [String]? = nil, used: Int? = nil, limit: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.domain = domain
        self.failureRate = failureRate
        self.threshold = threshold
        self.nodes = nodes
        self.used = used
        self.limit = limit
    }
}

/// A budget and how much of it is in use, e.g. `cpu` 64 of 64.
public struct BudgetUse: Codable, Sendable, Hashable {
    /// `queued` (outstanding tasks vs maxQueued), `in_flight`, `cpu`.
    public var name: String
    public var used: Int
    public var limit: Int
    /// `used/limit`, e.g. `64/64`.
    public var text: String

    public init(name: String, used: Int, limit: Int) {
        self.name = name
        self.used = used
        self.limit = limit
        self.text = "\(used)/\(limit)"
    }
}
