/// The handler's FIFO of written requests: an array with a moving head, compacted when the
/// head has moved far. A plain `Array` of a concrete type keeps every element operation
/// specialized; profiling `CircularBuffer<RedisPendingRequest>` showed enum value-witness
/// calls (`swift_getEnumCaseMultiPayload` …) on every reply.
struct RedisPendingQueue {
    private var storage: [RedisPendingRequest] = []
    private var head = 0

    init() {
        storage.reserveCapacity(16)
    }

    var isEmpty: Bool { head == storage.count }

    /// Positions of live entries, oldest first; valid until the next mutation.
    var indices: Range<Int> { head..<storage.count }

    mutating func append(_ request: RedisPendingRequest) {
        storage.append(request)
    }

    /// The oldest entry's position. Precondition: not empty.
    var headIndex: Int {
        precondition(!isEmpty, "no pending request")
        return head
    }

    subscript(index: Int) -> RedisPendingRequest { storage[index] }

    /// Drops the oldest entry and compacts now and then (the storage is emptied, releasing
    /// finished waiters, whenever the FIFO drains).
    mutating func removeFirst() {
        precondition(!isEmpty, "no pending request")
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// Empties the queue and returns what it held, oldest first.
    mutating func removeAll() -> ArraySlice<RedisPendingRequest> {
        defer { storage = []; head = 0 }
        return storage[head...]
    }
}
