/// Compact storage of every task the scheduler holds: a slab of fixed-size records addressed by
/// a 32-bit handle, a free list, and the id → handle index.
///
/// Records hold only scheduling fields (about 80 bytes); tenants, nodes, selectors and retry
/// policies are interned integer handles. Queues and timers refer to records by
/// `(handle, stamp)`: `stamp` changes whenever the record leaves the place an entry points at, so
/// stale entries are recognised and skipped instead of searched for and removed.
struct TaskStore: Sendable {
    private(set) var records: [TaskRecord] = []
    private var freeHandles: [UInt32] = []
    private var index: TaskIndex

    var count: Int { index.count }

    init(reservingCapacity capacity: Int = 0) {
        records.reserveCapacity(capacity)
        index = TaskIndex(minimumCapacity: capacity)
    }

    func handle(of id: TaskID) -> UInt32? { index.find(id, hash: TaskIndex.hash(id), records: records) }

    // `_read` lends the record instead of copying it (and retaining its id) on every field read.
    subscript(handle: UInt32) -> TaskRecord {
        _read { yield records[Int(handle)] }
        _modify { yield &records[Int(handle)] }
    }

    /// Stores a new record and indexes it; nil if a task with the same id is held.
    mutating func insert(_ record: TaskRecord) -> UInt32? {
        let hash = TaskIndex.hash(record.id)
        guard index.find(record.id, hash: hash, records: records) == nil else { return nil }
        let handle: UInt32
        if let reused = freeHandles.popLast() {
            handle = reused
            var fresh = record
            fresh.life = records[Int(reused)].life
            fresh.stamp = records[Int(reused)].stamp &+ 1
            records[Int(reused)] = fresh
        } else {
            precondition(records.count < Int(UInt32.max), "task slab exhausted")
            handle = UInt32(records.count)
            records.append(record)
        }
        index.insert(hash: hash, handle: handle)
        return handle
    }

    /// Forgets the record: invalidates every queue and timer entry pointing at it.
    mutating func remove(_ handle: UInt32) {
        index.remove(hash: TaskIndex.hash(records[Int(handle)].id), handle: handle)
        records[Int(handle)].life &+= 1
        records[Int(handle)].stamp &+= 1
        records[Int(handle)].isLive = false
        freeHandles.append(handle)
    }

    /// Bytes of storage reserved by the slab, the free list and the index (capacity, not count).
    var reservedBytes: Int {
        records.capacity * MemoryLayout<TaskRecord>.stride
            + freeHandles.capacity * MemoryLayout<UInt32>.stride
            + index.reservedBytes
    }
}

/// One task's scheduling state. Times are milliseconds; `Int64.max` stands for "none".
struct TaskRecord: Sendable {
    var id: TaskID
    /// Start of the aging clock: submission, or the end of the last backoff.
    var enqueuedAt: Int64
    var deadline: Int64
    /// Timeout while in flight; due time while RETRY_WAIT or DEFERRED.
    var timerAt: Int64
    var tenant: UInt32
    var cpuCost: UInt32
    var timeoutMilliseconds: UInt32
    var constraint: PlacementConstraint
    /// Node of the current attempt while in flight.
    var node: UInt32
    var policy: UInt32
    /// Changes when the handle is freed; deadline timers check it.
    var life: UInt32
    /// Changes whenever the task moves; queue and timer entries check it.
    var stamp: UInt32
    /// Number of the latest attempt (0 before the first dispatch).
    var attempt: UInt16
    /// Attempts that no longer count toward limits (reset by resume).
    var attemptBase: UInt16
    var priority: UInt8
    var state: TaskState
    var lastReason: DecisionReason
    var isLive: Bool
    /// A check: a non-zero exit is its answer, not a failure of the node (`TaskSpec`).
    var exitCodeIsAnswer: Bool

    static let noTime = Int64.max
    static let noNode = UInt32.max
}

/// Where a task may run, packed in 32 bits: any node, one node handle, or a selector handle.
struct PlacementConstraint: Hashable, Sendable {
    private let raw: UInt32

    static let any = PlacementConstraint(raw: 0)

    static func node(_ handle: UInt32) -> PlacementConstraint {
        precondition(handle < 0x8000_0000, "node handle out of range")
        return PlacementConstraint(raw: 0x8000_0000 | handle)
    }

    static func selector(_ handle: UInt32) -> PlacementConstraint {
        precondition(handle < 0x7FFF_FFFF, "selector handle out of range")
        return PlacementConstraint(raw: handle + 1)
    }

    var targetNode: UInt32? { raw & 0x8000_0000 != 0 ? raw & 0x7FFF_FFFF : nil }
    var selector: UInt32? { raw != 0 && raw & 0x8000_0000 == 0 ? raw - 1 : nil }
}
