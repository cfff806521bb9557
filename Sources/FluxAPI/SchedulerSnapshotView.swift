/// `GET /scheduler/debug/snapshot` (admin): the scheduler's state in one read — mode, every
/// tenant's queue heads with their effective class after aging, budgets in use, failure
/// counters, quarantined nodes and failure domains. Computed by the driver between two turns,
/// so it is consistent.
public struct SchedulerSnapshotView: Codable, Sendable, Hashable {
    public var shard: String
    public var atMs: Int64
    public var mode: SchedulerModeView
    /// Slots this shard holds leases for and has loaded.
    public var slotsOwned: Int
    public var agentsConnected: Int
    /// Tasks the core holds in any state, and waiting (ADMITTED) ones.
    public var heldTasks: Int
    public var waitingTasks: Int
    public var inFlightTasks: Int
    public var tenants: [TenantQueueView]
    /// Failure outcomes seen by this shard since it started, by reason code
    /// (`non_zero_exit`, `timeout`, `node_lost`, `agent_rejected`, `crashed`, `poison`).
    public var failureCounters: [String: Int]
    public var quarantinedNodes: [QuarantinedNodeView]
    public var domains: [DomainView]

    public init(
        shard: String, atMs: Int64, mode: SchedulerModeView, slotsOwned: Int, agentsConnected: Int, heldTasks: Int,
        waitingTasks: Int, inFlightTasks: Int, tenants: [TenantQueueView], failureCounters: [String: Int],
        quarantinedNodes: [QuarantinedNodeView], domains: [DomainView]
    ) {
        self.shard = shard
        self.atMs = atMs
        self.mode = mode
        self.slotsOwned = slotsOwned
        self.agentsConnected = agentsConnected
        self.heldTasks = heldTasks
        self.waitingTasks = waitingTasks
        self.inFlightTasks = inFlightTasks
        self.tenants = tenants
        self.failureCounters = failureCounters
        self.quarantinedNodes = quarantinedNodes
        self.domains = domains
    }
}

/// One tenant's queues: the head of each non-empty class FIFO and the budgets in use.
public struct TenantQueueView: Codable, Sendable, Hashable {
    public var tenant: String
    /// Waiting (ADMITTED) tasks.
    public var waiting: Int
    /// Age of the oldest waiting task in ms.
    public var oldestWaitingAgeMs: Int64?
    public var heads: [QueueHeadView]
    /// `queued` (outstanding vs maxQueued), `in_flight`, `cpu`.
    public var budgets: [BudgetUse]

    public init(tenant: String, waiting: Int, oldestWaitingAgeMs: Int64?, heads: [QueueHeadView], budgets: [BudgetUse]) {
        self.tenant = tenant
        self.waiting = waiting
        self.oldestWaitingAgeMs = oldestWaitingAgeMs
        self.heads = heads
        self.budgets = budgets
    }
}

/// The head of one (tenant, class) FIFO: its base class, how many wait there, and the class it
/// competes as now after aging.
public struct QueueHeadView: Codable, Sendable, Hashable {
    public var priority: Int
    public var waiting: Int
    public var effectivePriority: Int

    public init(priority: Int, waiting: Int, effectivePriority: Int) {
        self.priority = priority
        self.waiting = waiting
        self.effectivePriority = effectivePriority
    }
}

/// A quarantined node and its health score.
public struct QuarantinedNodeView: Codable, Sendable, Hashable {
    public var tenant: String
    public var node: String
    public var score: Double
    public var observedFailureRate: Double
    public var consecutiveFailures: Int

    public init(tenant: String, node: String, score: Double, observedFailureRate: Double, consecutiveFailures: Int) {
        self.tenant = tenant
        self.node = node
        self.score = score
        self.observedFailureRate = observedFailureRate
        self.consecutiveFailures = consecutiveFailures
    }
}

/// A failure domain (`zone:<z>` or `rack:<z>/<r>`), its failure rate and throttle.
public struct DomainView: Codable, Sendable, Hashable {
    public var domain: String
    public var failureRate: Double
    /// Throttled above this rate; recovers below `recoverBelow`.
    public var throttleAbove: Double
    public var recoverBelow: Double
    public var throttled: Bool
    /// Dispatch tokens available now (meaningful while throttled).
    public var tokens: Int
    public var nodes: Int

    public init(domain: String, failureRate: Double, throttleAbove: Double, recoverBelow: Double, throttled: Bool, tokens: Int, nodes: Int) {
        self.domain = domain
        self.failureRate = failureRate
        self.throttleAbove = throttleAbove
        self.recoverBelow = recoverBelow
        self.throttled = throttled
        self.tokens = tokens
        self.nodes = nodes
    }
}
