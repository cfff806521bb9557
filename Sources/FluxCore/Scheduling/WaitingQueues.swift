import DequeModule

/// A reference from a queue or timer to a task record, valid while the record's stamp matches.
struct QueueEntry: Hashable, Sendable {
    var handle: UInt32
    var stamp: UInt32
}

/// The waiting (ADMITTED) tasks: one FIFO per (tenant, base class), ordered by `enqueuedAt`.
/// The head of a FIFO is what dispatch takes; its tail, the newest, is what shedding takes.
///
/// Aging never reorders a FIFO: every task in it ages at the same pace, so its head is always its
/// most aged task, and dispatch only compares at most 11 heads per tenant. Removal from the
/// middle (cancel, deadline, shed) leaves a stale entry that is skipped when it reaches an end;
/// deques are compacted once stale entries outnumber live ones, which bounds the garbage.
struct WaitingQueues: Sendable {
    static let classes = PriorityClass.count
    private(set) var fifos: [Deque<QueueEntry>] = []
    /// Live count and cached head/tail per FIFO, so that choosing among a tenant's 11 heads does
    /// not touch 11 cold task records on every dispatch.
    private(set) var states: [FifoState] = []
    private(set) var total = 0

    /// Makes room for the FIFOs of tenant handle `tenant`.
    mutating func addTenant(_ tenant: UInt32) {
        let needed = (Int(tenant) + 1) * Self.classes
        while fifos.count < needed {
            fifos.append(Deque())
            states.append(FifoState())
        }
    }

    func live(tenant: UInt32, priority: Int) -> Int { Int(states[Int(tenant) * Self.classes + priority].live) }

    /// Appends to the FIFO; a restored task with an older enqueue time than the tail is inserted
    /// in order instead, so the head stays the oldest.
    mutating func enqueue(_ entry: QueueEntry, tenant: UInt32, priority: Int, enqueuedAt: Int64, store: TaskStore) {
        let slot = Int(tenant) * Self.classes + priority
        if fifos[slot].isEmpty || enqueuedAt >= states[slot].tailEnqueuedAt {
            fifos[slot].append(entry)
            states[slot].tailEnqueuedAt = enqueuedAt
        } else {
            insertInOrder(entry, slot: slot, enqueuedAt: enqueuedAt, store: store)
        }
        if states[slot].live == 0 { states[slot].headValid = false }
        states[slot].live += 1
        total += 1
    }

    private mutating func insertInOrder(_ entry: QueueEntry, slot: Int, enqueuedAt: Int64, store: TaskStore) {
        var position = fifos[slot].count
        while position > 0 {
            let previous = fifos[slot][position - 1]
            guard Self.isValid(previous, store), store[previous.handle].enqueuedAt > enqueuedAt else { break }
            position -= 1
        }
        fifos[slot].insert(entry, at: position)
        states[slot].headValid = false
    }

    /// Accounts for a task leaving the waiting set (its stamp has already changed).
    mutating func didRemove(tenant: UInt32, priority: Int, store: TaskStore) {
        let slot = Int(tenant) * Self.classes + priority
        states[slot].live -= 1
        states[slot].headValid = false
        total -= 1
        if fifos[slot].count > 2 * Int(states[slot].live) + 64 {
            fifos[slot].removeAll { !Self.isValid($0, store) }
        }
    }

    /// The oldest live entry of a FIFO and its enqueue time, dropping stale entries in front of
    /// it; cached until the FIFO loses a task.
    mutating func head(tenant: UInt32, priority: Int, store: TaskStore) -> (handle: UInt32, enqueuedAt: Int64)? {
        let slot = Int(tenant) * Self.classes + priority
        guard states[slot].live > 0 else { return nil }
        if states[slot].headValid { return (states[slot].headHandle, states[slot].headEnqueuedAt) }
        while let first = fifos[slot].first {
            if Self.isValid(first, store) {
                states[slot].headValid = true
                states[slot].headHandle = first.handle
                states[slot].headEnqueuedAt = store[first.handle].enqueuedAt
                return (first.handle, states[slot].headEnqueuedAt)
            }
            fifos[slot].removeFirst()
        }
        return nil
    }

    /// The oldest live entry without mutation (introspection).
    func peekHead(tenant: UInt32, priority: Int, store: TaskStore) -> QueueEntry? {
        let slot = Int(tenant) * Self.classes + priority
        guard states[slot].live > 0 else { return nil }
        return fifos[slot].first { Self.isValid($0, store) }
    }

    /// The newest live waiting task of one tenant's base class `priority`, dropping stale
    /// entries behind it (the cached head is live, so it is never among them).
    mutating func newest(tenant: UInt32, priority: Int, store: TaskStore) -> QueueEntry? {
        let slot = Int(tenant) * Self.classes + priority
        guard states[slot].live > 0 else { return nil }
        while let last = fifos[slot].last {
            if Self.isValid(last, store) { return last }
            fifos[slot].removeLast()
        }
        return nil
    }

    /// Forgets every FIFO of a tenant (tenant removal).
    mutating func removeTenant(_ tenant: UInt32) {
        for priority in 0..<Self.classes {
            let slot = Int(tenant) * Self.classes + priority
            fifos[slot] = Deque()
            total -= Int(states[slot].live)
            states[slot] = FifoState()
        }
    }

    static func isValid(_ entry: QueueEntry, _ store: TaskStore) -> Bool {
        store[entry.handle].stamp == entry.stamp && store[entry.handle].state == .admitted && store[entry.handle].isLive
    }

    var reservedBytes: Int {
        let entry = MemoryLayout<QueueEntry>.stride
        return fifos.reduce(0) { $0 + $1.capacityEstimate * entry }
    }
}

/// Bookkeeping of one FIFO.
struct FifoState: Sendable {
    var live: Int32 = 0
    var headValid = false
    var headHandle: UInt32 = 0
    var headEnqueuedAt: Int64 = 0
    /// Enqueue time of the last appended entry (an upper bound on every live entry's).
    var tailEnqueuedAt: Int64 = .min
}

extension Deque {
    /// Deque does not expose its capacity; its storage grows by doubling, so the live count
    /// rounded up to a power of two is what it holds in the steady state.
    var capacityEstimate: Int {
        count == 0 ? 0 : 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount)
    }
}
