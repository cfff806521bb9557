/// The task id → handle index: open addressing with linear probing over 8-byte slots.
///
/// Compared with `Dictionary<TaskID, UInt32>` it stores no keys (ids live in the records, so a
/// probe confirms a match there), which cuts its memory from about 36 to about 16 bytes per task,
/// and it hashes with FNV-1a plus a SplitMix64 finalizer instead of per-process-seeded SipHash,
/// which is faster and deterministic. Ids are assigned by the shard, not chosen by clients, so
/// collision flooding is not a concern; the hash is mixed so that sequential ids spread evenly.
/// A slot packs `(hash low 32 bits) << 32 | (handle + 1)`; 0 marks an empty slot. Deletion
/// shifts later entries back (no tombstones), so probe lengths stay short.
struct TaskIndex: Sendable {
    private var slots: [UInt64]
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity * 7 < minimumCapacity * 10 { capacity <<= 1 }
        slots = Array(repeating: 0, count: capacity)
    }

    static func hash(_ id: TaskID) -> UInt32 {
        UInt32(truncatingIfNeeded: SplitMix64.mix(FNV1a.hash64(id.rawValue)))
    }

    /// The handle of `id`, confirming candidates against the ids stored in `records`.
    func find(_ id: TaskID, hash: UInt32, records: [TaskRecord]) -> UInt32? {
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while slots[position] != 0 {
            let slot = slots[position]
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let handle = UInt32(truncatingIfNeeded: slot) - 1
                if records[Int(handle)].id == id { return handle }
            }
            position = (position + 1) & mask
        }
        return nil
    }

    /// Adds `id` → `handle`; the caller checked that `id` is absent.
    mutating func insert(hash: UInt32, handle: UInt32) {
        if (count + 1) * 10 > slots.count * 7 { grow() }
        place(UInt64(hash) << 32 | UInt64(handle + 1))
        count += 1
    }

    /// Removes the entry of `handle` (hash of its id given).
    mutating func remove(hash: UInt32, handle: UInt32) {
        let mask = slots.count - 1
        var position = Int(hash) & mask
        let target = UInt64(hash) << 32 | UInt64(handle + 1)
        while slots[position] != target {
            precondition(slots[position] != 0, "task index lost an entry")
            position = (position + 1) & mask
        }
        slots[position] = 0
        count -= 1
        shiftBack(from: position)
    }

    var reservedBytes: Int { slots.capacity * MemoryLayout<UInt64>.stride }

    private mutating func place(_ slot: UInt64) {
        let mask = slots.count - 1
        var position = Int(UInt32(truncatingIfNeeded: slot >> 32)) & mask
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = slot
    }

    /// Backward-shift deletion: moves later entries of the probe run into the hole when their
    /// home position allows it.
    private mutating func shiftBack(from hole: Int) {
        let mask = slots.count - 1
        var hole = hole
        var position = (hole + 1) & mask
        while slots[position] != 0 {
            let home = Int(UInt32(truncatingIfNeeded: slots[position] >> 32)) & mask
            // The entry may fill the hole if the hole lies cyclically in [home, position).
            if (position - home) & mask >= (position - hole) & mask {
                slots[hole] = slots[position]
                slots[position] = 0
                hole = position
            }
            position = (position + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        for slot in old where slot != 0 { place(slot) }
    }
}
