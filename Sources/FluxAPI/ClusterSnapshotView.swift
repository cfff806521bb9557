/// `GET /scheduler/debug/snapshot` on the router: every live shard's snapshot side by side, the
/// sums an operator looks at first, and the shards that did not answer.
public struct ClusterSnapshotView: Codable, Sendable, Hashable {
    public var atMs: Int64
    public var totals: Totals
    /// By shard id.
    public var shards: [SchedulerSnapshotView]
    /// Shard id → why its snapshot is missing (`answered 503`, `notSent`, …).
    public var unreachable: [String: String]

    /// Sums over the shards that answered.
    public struct Totals: Codable, Sendable, Hashable {
        public var slotsOwned = 0
        public var agentsConnected = 0
        public var heldTasks = 0
        public var waitingTasks = 0
        public var inFlightTasks = 0
        public var quarantinedNodes = 0
        public init() {}
    }

    public init(atMs: Int64, shards: [SchedulerSnapshotView], unreachable: [String: String]) {
        self.atMs = atMs
        self.shards = shards
        self.unreachable = unreachable
        self.totals = Totals()
        summarize()
    }

    /// Recomputes `totals` from `shards`.
    public mutating func summarize() {
        var totals = Totals()
        for shard in shards {
            totals.slotsOwned += shard.slotsOwned
            totals.agentsConnected += shard.agentsConnected
            totals.heldTasks += shard.heldTasks
            totals.waitingTasks += shard.waitingTasks
            totals.inFlightTasks += shard.inFlightTasks
            totals.quarantinedNodes += shard.quarantinedNodes.count
        }
        self.totals = totals
    }
}
