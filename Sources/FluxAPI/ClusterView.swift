/// `GET /v1/admin/cluster`: members, who holds which slots, and the leases with their epochs.
public struct ClusterView: Codable, Sendable, Hashable {
    public var slotCount: Int
    public var members: [Member]
    /// Every held lease, by slot.
    public var leases: [Lease]
    /// Slots nobody holds right now (their submissions still queue in the ingest stream).
    public var unownedSlots: [Int]
    /// Held slots whose lease is not (yet) with the owner the slot map over the live members
    /// names: a handoff or a takeover in progress. None moving and none unowned is a settled
    /// cluster.
    public var movingSlots: [Int]

    public init(slotCount: Int, members: [Member], leases: [Lease], unownedSlots: [Int], movingSlots: [Int] = []) {
        self.slotCount = slotCount
        self.members = members
        self.leases = leases
        self.unownedSlots = unownedSlots
        self.movingSlots = movingSlots
    }

    /// One shard as it described itself, with its liveness and the slots it holds.
    public struct Member: Codable, Sendable, Hashable {
        public var id: String
        public var api: String
        public var agent: String
        public var version: String
        public var startedAtMs: Int64
        public var heartbeatAgeMs: Int64
        public var live: Bool
        public var slotsHeld: Int
        public init(id: String, api: String, agent: String, version: String, startedAtMs: Int64, heartbeatAgeMs: Int64, live: Bool, slotsHeld: Int) {
            self.id = id
            self.api = api
            self.agent = agent
            self.version = version
            self.startedAtMs = startedAtMs
            self.heartbeatAgeMs = heartbeatAgeMs
            self.live = live
            self.slotsHeld = slotsHeld
        }
    }

    /// A slot lease: holder, fencing epoch and time left before it expires unless renewed.
    public struct Lease: Codable, Sendable, Hashable {
        public var slot: Int
        public var holder: String
        public var epoch: Int64
        public var ttlMs: Int64
        public init(slot: Int, holder: String, epoch: Int64, ttlMs: Int64) {
            self.slot = slot
            self.holder = holder
            self.epoch = epoch
            self.ttlMs = ttlMs
        }
    }
}
