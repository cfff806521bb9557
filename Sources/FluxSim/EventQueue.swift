import HeapModule

/// Virtual-time event queue: events pop in (time, insertion order), so equal times keep the
/// order they were scheduled in and a run is a pure function of its seed.
struct EventQueue<Event> {
    private struct Entry: Comparable {
        var time: Int64
        var sequence: UInt64
        var index: Int

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
        }
    }

    private var heap = Heap<Entry>()
    private var payloads: [Event?] = []
    private var free: [Int] = []
    private var sequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func schedule(_ event: Event, at time: Int64) {
        let index: Int
        if let reused = free.popLast() {
            index = reused
            payloads[index] = event
        } else {
            index = payloads.count
            payloads.append(event)
        }
        heap.insert(Entry(time: time, sequence: sequence, index: index))
        sequence &+= 1
    }

    mutating func next() -> (time: Int64, event: Event)? {
        guard let entry = heap.popMin(), let event = payloads[entry.index] else { return nil }
        payloads[entry.index] = nil
        free.append(entry.index)
        return (entry.time, event)
    }
}
