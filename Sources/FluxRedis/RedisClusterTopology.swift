/// Which master owns which hash slot, and its replicas: the cluster client's routing table.
/// Built from a `CLUSTER SHARDS` reply (`init(shardsReply:)`), replaced whole on every refresh,
/// and never mutated in place, so a router can read one consistent snapshot without a lock.
///
/// A shard with no slots (a failed master after its replica took over shows up this way) owns
/// nothing and routes nothing. Slots no shard claims route nowhere: `master(forSlot:)` is nil.
public struct RedisClusterTopology: Sendable, Hashable {
    /// One node as `CLUSTER SHARDS` describes it.
    public struct Node: Sendable, Hashable {
        /// The node's 40-character id.
        public var id: String
        /// Where clients reach it.
        public var endpoint: RedisClusterEndpoint
        /// True for `role master`.
        public var isMaster: Bool
        /// `online`, `failed` (`fail` on Redis 7.0) or `loading`, as reported.
        public var health: String
    }

    /// A master with the slot ranges it serves and its replicas.
    public struct Shard: Sendable, Hashable {
        /// Slot ranges, as reported (inclusive at both ends).
        public var slotRanges: [ClosedRange<Int>]
        /// The master serving the slots.
        public var master: Node
        /// Its replicas, possibly none.
        public var replicas: [Node]
    }

    /// Every shard with a master, in reply order.
    public let shards: [Shard]
    /// `owners[slot]` indexes `masterEndpoints`; -1 when no master owns the slot.
    private var owners: [Int16]
    /// The distinct masters that own slots (or did, before `reassigning`), in reply order.
    public private(set) var masterEndpoints: [RedisClusterEndpoint]

    /// A topology from shards; later shards win if two claim one slot (they should not).
    public init(shards: [Shard]) {
        self.shards = shards
        owners = Array(repeating: -1, count: RedisHashSlot.count)
        masterEndpoints = []
        for shard in shards where !shard.slotRanges.isEmpty {
            let index = endpointIndex(shard.master.endpoint)
            for range in shard.slotRanges where range.overlaps(0...(RedisHashSlot.count - 1)) {
                for slot in range.clamped(to: 0...(RedisHashSlot.count - 1)) { owners[slot] = index }
            }
        }
    }

    /// The master that owns `slot`, or nil if none does (or the slot is out of range).
    public func master(forSlot slot: Int) -> RedisClusterEndpoint? {
        guard owners.indices.contains(slot) else { return nil }
        let index = Int(owners[slot])
        return index >= 0 ? masterEndpoints[index] : nil
    }

    /// The shard whose master owns `slot`, for replicas and node ids.
    public func shard(forSlot slot: Int) -> Shard? {
        guard let endpoint = master(forSlot: slot) else { return nil }
        return shards.last { $0.master.endpoint == endpoint && !$0.slotRanges.isEmpty }
    }

    /// How many of the 16384 slots no master owns; 0 when the cluster is fully covered.
    public var uncoveredSlotCount: Int { owners.count { $0 < 0 } }

    /// Every node the topology names (masters first, then replicas), for finding one that answers.
    public var allEndpoints: [RedisClusterEndpoint] {
        var seen = Set<RedisClusterEndpoint>(), result: [RedisClusterEndpoint] = []
        let nodes = shards.map(\.master) + shards.flatMap(\.replicas)
        for node in nodes where seen.insert(node.endpoint).inserted { result.append(node.endpoint) }
        return result
    }

    /// This topology with `slot` owned by `endpoint`: what a `MOVED` reply says, applied when
    /// the refreshed topology (read from a node that may lag) still disagrees with it.
    public func reassigning(slot: Int, to endpoint: RedisClusterEndpoint) -> RedisClusterTopology {
        guard owners.indices.contains(slot) else { return self }
        var copy = self
        copy.owners[slot] = copy.endpointIndex(endpoint)
        return copy
    }

    private mutating func endpointIndex(_ endpoint: RedisClusterEndpoint) -> Int16 {
        if let index = masterEndpoints.firstIndex(of: endpoint) { return Int16(index) }
        masterEndpoints.append(endpoint)
        return Int16(masterEndpoints.count - 1)
    }
}
