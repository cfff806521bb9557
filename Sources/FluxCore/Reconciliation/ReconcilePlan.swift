/// A check or an apply the planner wants run on one node. The runtime names it (task id and
/// idempotency key) from these four fields alone, so planning the same work twice — after a
/// crash, or on a new owner — names the same task.
public struct ReconcileWork: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case check
        case apply
    }

    public var node: String
    public var kind: Kind
    public var generation: Int
    /// `checkSeq` for checks, `driftSeq` for applies.
    public var sequence: Int

    public init(node: String, kind: Kind, generation: Int, sequence: Int) {
        self.node = node
        self.kind = kind
        self.generation = generation
        self.sequence = sequence
    }
}

/// One entry of the (item, node) timeline.
public struct ReconcileTransition: Hashable, Sendable {
    public var node: String
    public var from: ReconcileState?
    public var to: ReconcileState
    public var reason: ReconcileReason
    public var taskID: String?
    public var exitCode: Int?
}

/// What the metrics count.
public enum ReconcileEvent: Hashable, Sendable {
    case driftDetected(node: String)
    /// `applied`, `apply_failed`, `apply_not_run`, `verified`, `verify_deadline`.
    case remediation(node: String, outcome: String)
    /// Drift first seen → verified in sync.
    case reconciled(node: String, milliseconds: Int64)
}

/// The planner's answer for one item at one instant: the records to persist, the tasks to
/// submit (before persisting), the timeline entries and the events.
public struct ReconcilePlan: Sendable {
    /// Every record, changed or not.
    public var states: [String: NodeReconciliation]
    /// Nodes whose record changed and must be written.
    public var changed: Set<String> = []
    public var submissions: [(work: ReconcileWork, taskID: String)] = []
    public var transitions: [ReconcileTransition] = []
    public var events: [ReconcileEvent] = []

    /// Nodes per state, for the summary and `flux_desired_nodes`.
    public var summary: [ReconcileState: Int] {
        states.values.reduce(into: [:]) { $0[$1.state, default: 0] += 1 }
    }
}
