/// The slot → shard map of docs/architecture.md, by rendezvous (highest-random-weight) hashing.
///
/// For slot `s`, every member `m` gets the weight
/// `SplitMix64.mix(FNV1a.hash64(m) ^ SplitMix64.mix(UInt64(s) &+ 0x9E3779B97F4A7C15))`
/// and the member with the highest weight owns the slot (ties, which need a 64-bit collision,
/// go to the lexicographically smaller name). Consequences, all tested:
/// - the map is a function of the member *set*: order and duplicates do not matter;
/// - removing a member moves only the slots it owned, each to its runner-up;
/// - adding a member moves only the slots it wins, `slotCount/(N+1)` in expectation.
///
/// Any scheme with the first two properties picks, per slot, the best member under a fixed order
/// (that is what "removing a member moves nothing else" forces), so the number of slots a new
/// member wins is a sum of per-slot draws: binomial-like noise of about `sqrt(256·p(1−p))` slots
/// around `256·p`, `p = 1/(N+1)`. `docs/scheduler-design.md` gives the measured figures.
public struct SlotMap: Hashable, Sendable {
    /// The members, sorted and de-duplicated.
    public let members: [String]
    /// Number of slots.
    public let slotCount: Int
    private let owners: [Int32]

    /// Builds the map. With no members every slot is unowned (`owner(ofSlot:)` returns nil).
    public init(members: some Sequence<String>, slotCount: Int = SlotHash.defaultSlotCount) {
        precondition(slotCount > 0, "slot count must be positive")
        let sorted = Array(Set(members)).sorted()
        self.members = sorted
        self.slotCount = slotCount
        let hashes = sorted.map { FNV1a.hash64($0) }
        owners = (0..<slotCount).map { slot in Self.winner(slot: slot, memberHashes: hashes) }
    }

    /// The rendezvous weight of `member` for `slot` (documented above; exposed so other
    /// implementations, e.g. a router in another language, can check their numbers).
    public static func weight(member: String, slot: Int) -> UInt64 {
        weight(memberHash: FNV1a.hash64(member), slot: slot)
    }

    private static func weight(memberHash: UInt64, slot: Int) -> UInt64 {
        SplitMix64.mix(memberHash ^ SplitMix64.mix(UInt64(truncatingIfNeeded: slot) &+ 0x9E37_79B9_7F4A_7C15))
    }

    private static func winner(slot: Int, memberHashes: [UInt64]) -> Int32 {
        guard !memberHashes.isEmpty else { return -1 }
        var best = 0
        var bestWeight = weight(memberHash: memberHashes[0], slot: slot)
        for index in memberHashes.indices.dropFirst() {
            let candidate = weight(memberHash: memberHashes[index], slot: slot)
            // Members are sorted, so `>` keeps the smaller name on a tie.
            if candidate > bestWeight {
                best = index
                bestWeight = candidate
            }
        }
        return Int32(best)
    }

    /// The member owning `slot`, or nil if there are no members or the slot is out of range.
    public func owner(ofSlot slot: Int) -> String? {
        guard owners.indices.contains(slot), owners[slot] >= 0 else { return nil }
        return members[Int(owners[slot])]
    }

    /// The slots `member` owns, ascending.
    public func slots(ownedBy member: String) -> [Int] {
        guard let index = members.firstIndex(of: member) else { return [] }
        return owners.indices.filter { owners[$0] == Int32(index) }
    }

    /// The owner of the slot of `tenant`.
    public func owner(ofTenant tenant: TenantID) -> String? {
        owner(ofSlot: SlotHash.slot(forTenant: tenant, slotCount: slotCount))
    }
}
