import FluxRuntime

/// Which shard serves which slot, as the router routes by it: the holder of each slot's lease,
/// provided that holder is a live member (it heartbeats). Built from one read of Redis; pure.
///
/// The lease, not the rendezvous map, is the authority: during a handoff the map already names
/// the new owner while the old one still holds (and serves) the slot, and a shard answers `421`
/// for any slot it does not hold. A lease held by a member that stopped heartbeating is a crashed
/// shard whose lease has not expired yet: no owner, so submissions go straight to Redis instead
/// of waiting for connection timeouts.
public struct OwnerTable: Sendable, Equatable {
    /// A shard the router can reach.
    public struct Shard: Sendable, Hashable {
        public var id: String
        /// `host:port` (or `https://host:port`) of its tenant API.
        public var api: String
        /// `host:port` (or `wss://host:port`) of its agent gateway.
        public var agent: String
        /// Its scheduler was READ_ONLY at its last heartbeat: submissions for its slots are refused.
        public var readOnly = false
        /// Tenants the shard's door refuses now for its backlog (429 `backlog`), and for how long.
        public var refusing: Set<String> = []
        public var refusingForMs: Int64 = 0
        /// Tenants the shard, DEGRADED, refuses classes above `degradedMaxClass` from (429 `degraded`).
        public var degradedRefusing: Set<String> = []
        public var degradedMaxClass = 3
    }

    /// An owner of one slot: the shard and the epoch of its lease.
    public struct Owner: Sendable, Hashable {
        public var shard: Shard
        public var epoch: Int64
    }

    public let slotCount: Int
    private let owners: [Owner?]
    /// Live members, whether or not they hold anything (fan-out of admin reads).
    public let liveShards: [Shard]

    /// An empty table: every slot unowned (before the first read of Redis).
    public init(slotCount: Int) {
        self.slotCount = slotCount
        self.owners = Array(repeating: nil, count: slotCount)
        self.liveShards = []
    }

    /// - Parameters:
    ///   - leases: slot → lease value `<shardId>:<epoch>`, for the slots that have one.
    ///   - members: every member with its last heartbeat (Unix ms).
    public init(
        slotCount: Int, leases: [Int: String], members: [(shard: Shard, heartbeatMs: Int64)], nowMs: Int64, memberTTLMs: Int64
    ) {
        let live = members.filter { nowMs - $0.heartbeatMs <= memberTTLMs }.map(\.shard)
        let byID = Dictionary(live.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.slotCount = slotCount
        self.liveShards = live.sorted { $0.id < $1.id }
        self.owners = (0..<slotCount).map { slot in
            guard let (holder, epoch) = leases[slot].flatMap(SlotLeases.parse), let shard = byID[holder] else { return nil }
            return Owner(shard: shard, epoch: epoch)
        }
    }

    /// The owner of `slot`, or nil when no live shard holds it.
    public func owner(ofSlot slot: Int) -> Owner? {
        owners.indices.contains(slot) ? owners[slot] : nil
    }

    /// Slots with a live owner.
    public var ownedSlotCount: Int { owners.count { $0 != nil } }
}

extension OwnerTable.Shard {
    /// DEGRADED's refusal of a submission whose least urgent class is given, as the shard's own
    /// door would answer it (docs/api/router.md#backpressure-at-the-door).
    func degradedRefusal(of tenant: String, leastUrgentClass: Int) -> HTTPProblem? {
        guard leastUrgentClass > degradedMaxClass, degradedRefusing.contains(tenant) else { return nil }
        return SubmissionEndpoint.degradedRefusal(tenant: tenant, maxClass: degradedMaxClass)
    }
}
