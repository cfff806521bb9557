/// `GET /v1/tenants/{tenant}/desired/{name}`: the spec as stored, its generation, and how many
/// matching nodes are in each reconciliation state.
public struct DesiredStateView: Codable, Sendable, Hashable {
    public var name: String
    public var tenant: String
    public var generation: Int
    public var spec: DesiredStateSpec
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// Nodes per state (`IN_SYNC`, `DRIFTED`, …), current generation and older ones alike.
    public var summary: [String: Int]

    public init(
        name: String, tenant: String, generation: Int, spec: DesiredStateSpec, createdAtMs: Int64, updatedAtMs: Int64,
        summary: [String: Int]
    ) {
        self.name = name
        self.tenant = tenant
        self.generation = generation
        self.spec = spec
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.summary = summary
    }
}

/// `GET /v1/tenants/{tenant}/desired`.
public struct DesiredStateList: Codable, Sendable, Hashable {
    public var items: [DesiredStateView]
    public init(items: [DesiredStateView]) { self.items = items }
}

/// One node of a desired state (`GET …/desired/{name}/nodes`).
public struct DesiredNodeView: Codable, Sendable, Hashable {
    public var node: String
    public var zone: String
    public var state: String
    public var reason: String
    public var generation: Int
    public var lastCheckAtMs: Int64?
    public var lastDriftAtMs: Int64?
    public var lastRemediationTaskId: String?
    /// The check or apply task in flight.
    public var taskId: String?
    /// Remediations that failed since the node was last in sync.
    public var attempts: Int
    /// Drifts detected in this generation.
    public var drifts: Int
    public var lastExitCode: Int?
    public var nextCheckAtMs: Int64
    public var verifyDeadlineAtMs: Int64?

    public init(
        node: String, zone: String, state: String, reason: String, generation: Int, lastCheckAtMs: Int64?,
        lastDriftAtMs: Int64?, lastRemediationTaskId: String?, taskId: String?, attempts: Int, drifts: Int,
        lastExitCode: Int?, nextCheckAtMs: Int64, verifyDeadlineAtMs: Int64?
    ) {
        self.node = node
        self.zone = zone
        self.state = state
        self.reason = reason
        self.generation = generation
        self.lastCheckAtMs = lastCheckAtMs
        self.lastDriftAtMs = lastDriftAtMs
        self.lastRemediationTaskId = lastRemediationTaskId
        self.taskId = taskId
        self.attempts = attempts
        self.drifts = drifts
        self.lastExitCode = lastExitCode
        self.nextCheckAtMs = nextCheckAtMs
        self.verifyDeadlineAtMs = verifyDeadlineAtMs
    }
}

/// `GET …/desired/{name}/nodes`.
public struct DesiredNodeList: Codable, Sendable, Hashable {
    public var name: String
    public var generation: Int
    public var nodes: [DesiredNodeView]
    public init(name: String, generation: Int, nodes: [DesiredNodeView]) {
        self.name = name
        self.generation = generation
        self.nodes = nodes
    }
}

/// One entry of an (item, node) timeline.
public struct DesiredTimelineEntry: Codable, Sendable, Hashable {
    public var id: String
    public var atMs: Int64
    public var from: String
    public var to: String
    public var reason: String
    public var generation: Int
    public var taskId: String?
    public var exitCode: Int?
    public var shard: String
    public var epoch: Int64

    public init(
        id: String, atMs: Int64, from: String, to: String, reason: String, generation: Int, taskId: String?, exitCode: Int?,
        shard: String, epoch: Int64
    ) {
        self.id = id
        self.atMs = atMs
        self.from = from
        self.to = to
        self.reason = reason
        self.generation = generation
        self.taskId = taskId
        self.exitCode = exitCode
        self.shard = shard
        self.epoch = epoch
    }
}

/// `GET …/desired/{name}/nodes/{node}/timeline`.
public struct DesiredTimeline: Codable, Sendable, Hashable {
    public var name: String
    public var node: String
    public var entries: [DesiredTimelineEntry]
    public init(name: String, node: String, entries: [DesiredTimelineEntry]) {
        self.name = name
        self.node = node
        self.entries = entries
    }
}
