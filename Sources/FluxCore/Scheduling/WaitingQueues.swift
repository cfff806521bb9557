import DequeModule

/// A reference from a queue or timer to a task record, valid while the record's stamp matches.
struct QueueEntry: Hashable, Sendable {
    var handle: UInt32
    var stamp: UInt32
}

/// The waiting (ADMITTED) tasks: one FIFO per (tenant, base class), ordered by `enqueuedAt`,
/// plus one arrival-ordered deque per class across tenants for shedding.
///
/// Aging never reorders a FIFO: every task in it ages at the same pace, so its head is always its
/// most aged task, and dispatch only compares at most 11 heads per tenant. Removal from the
/// middle (cancel, deadline, shed) leaves a stale entry that is skipped when it reaches an end;
/// deques are compacted once stale entries outnumber live ones, which bounds the garbage.
struct WaitingQueues: Sendable {
    static let classes = PriorityClass.count
    private(set) var fifos: [Deque<QueueEntry>] = []
    /// Live entries per FIFO (the deque also holds stale ones).
    private(set) var liveCounts: [Int32] = []
    /// Per class, every waiting task in arrival order across tenants: the back is the newest.
    private(set) var arrivals: [Deque<QueueEntry>]
    private(set) var arrivalLive: [Int]
    private(set) var total = 0

    init() {
        arrivals = Array(repeating: Deque(), count: Self.classes)
        arrivalLive = Array(repeating: 0, count: Self.classes)
    }

    /// Makes room for the FIFOs of tenant handle `tenant`.
    mutating func addTenant(_ tenant: UInt32) {
        let needed = (Int(tenant) + 1) * Self.classes
        while fifos.count < needed {
            fifos.append(Deque())
            liveCounts.append(0)
        }
    }

    func live(tenant: UInt32, priority: Int) -> Int { Int(liveCounts[Int(tenant) * Self.classes + priority]) }

    /// Appends to the FIFO, walking back past younger entries so restored tasks with old
    /// enqueue times keep the FIFO sorted (O(1) for in-order arrivals).
    mutating func enqueue(_ entry: QueueEntry, tenant: UInt32, priority: Int, enqueuedAt: Int64, store: TaskStore) {
        let slot = Int(tenant) * Self.classes + priority
        var position = fifos[slot].count
        while position > 0 {
            let previous = fifos[slot][position - 1]
            guard Self.isValid(previous, store), store[previous.handle].enqueuedAt > enqueuedAt else { break }
            position -= 1
        }
        if position == fifos[slot].count {
            fifos[slot].append(entry)
        } else {
            fifos[slot].insert(entry, at: position)
        }
        liveCounts[slot] += 1
        arrivals[priority].append(entry)
        arrivalLive[priority] += 1
        total += 1
    }

    /// Accounts for a task leaving the waiting set (its stamp has already changed).
    mutating func didRemove(tenant: UInt32, priority: Int, store: TaskStore) {
        let slot = Int(tenant) * Self.classes + priority
        liveCounts[slot] -= 1
        arrivalLive[priority] -= 1
        total -= 1
        if fifos[slot].count > 2 * Int(liveCounts[slot]) + 64 {
            fifos[slot].removeAll { !Self.isValid($0, store) }
        }
        compactArrivals(priority: priority, store: store)
    }

    /// The oldest live entry of a FIFO, dropping stale entries in front of it.
    mutating func head(tenant: UInt32, priority: Int, store: TaskStore) -> QueueEntry? {
        let slot = Int(tenant) * Self.classes + priority
        guard liveCounts[slot] > 0 else { return nil }
        while let first = fifos[slot].first {
            if Self.isValid(first, store) { return first }
            fifos[slot].removeFirst()
        }
        return nil
    }

    /// The oldest live entry without mutation (introspection).
    func peekHead(tenant: UInt32, priority: Int, store: TaskStore) -> QueueEntry? {
        let slot = Int(tenant) * Self.classes + priority
        guard liveCounts[slot] > 0 else { return nil }
        return fifos[slot].first { Self.isValid($0, store) }
    }

    /// The newest live waiting task of base class `priority` across tenants.
    mutating func newest(priority: Int, store: TaskStore) -> QueueEntry? {
        guard arrivalLive[priority] > 0 else { return nil }
        while let last = arrivals[priority].last {
            if Self.isValid(last, store) { return last }
            arrivals[priority].removeLast()
        }
        return nil
    }

    /// Drops stale arrival entries once they dominate (dispatch removes from the front of
    /// tenant FIFOs, not from the arrival deques).
    mutating func compactArrivals(priority: Int, store: TaskStore) {
        guard arrivals[priority].count > 2 * arrivalLive[priority] + 1024 else { return }
        arrivals[priority].removeAll { !Self.isValid($0, store) }
    }

    /// Forgets every FIFO of a tenant (tenant removal); the arrival deques drop their entries
    /// lazily because the records' stamps changed.
    mutating func removeTenant(_ tenant: UInt32) {
        for priority in 0..<Self.classes {
            let slot = Int(tenant) * Self.classes + priority
            fifos[slot] = Deque()
            total -= Int(liveCounts[slot])
            arrivalLive[priority] -= Int(liveCounts[slot])
            liveCounts[slot] = 0
        }
    }

    static func isValid(_ entry: QueueEntry, _ store: TaskStore) -> Bool {
        let record = store[entry.handle]
        return record.stamp == entry.stamp && record.state == .admitted && record.isLive
    }

    var reservedBytes: Int {
        let entry = MemoryLayout<QueueEntry>.stride
        return fifos.reduce(0) { $0 + $1.capacityEstimate * entry }
            + arrivals.reduce(0) { $0 + $1.capacityEstimate * entry }
    }
}

extension Deque {
    /// Deque does not expose its capacity; its storage grows by doubling, so the live count
    /// rounded up to a power of two is what it holds in the steady state.
    var capacityEstimate: Int {
        count == 0 ? 0 : 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount)
    }
}
