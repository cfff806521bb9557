/// Submissions the driver has read from the ingest streams and not yet admitted: one line per
/// tenant, and each turn admits at most `perTenant` of every line.
///
/// Why: the tenants of a slot share one ingest stream, read in order. Admitted as read, a quiet
/// tenant's entry waited behind every entry of a flooding neighbour ahead of it in the stream
/// (up to the door's backlog bound and the batches in flight, about 1,100), one read per turn:
/// 0.4 s in `cluster/bench --noisy` (docs/performance.md#noisy-neighbour-issue-15). Read ahead
/// into lines of their own, it is admitted in the next turn. The entries stay pending in the
/// stream until the transition script writes their admission outcome, so entries held here and
/// lost with the process are read again by whoever owns the slot next.
struct FairIntake {
    private var lines: [String: ArraySlice<IngestedTask>] = [:]
    /// Tenants with entries, in the order their lines were opened.
    private var tenants: [String] = []
    /// Task ids held, so an entry read twice (a catch-up read from the stream's start returns
    /// what is still pending) is held once.
    private var held: Set<String> = []

    /// Entries held.
    var count: Int { held.count }

    /// Holds `task` in its tenant's line; false when it is already held.
    @discardableResult
    mutating func append(_ task: IngestedTask) -> Bool {
        guard held.insert(task.taskID).inserted else { return false }
        let tenant = task.fields["tenant"] ?? ""
        if lines[tenant] == nil { tenants.append(tenant) }
        lines[tenant, default: []].append(task)
        return true
    }

    /// Up to `perTenant` entries of every line, oldest first within a tenant, tenants in turn.
    mutating func take(perTenant: Int) -> [IngestedTask] {
        var taken: [IngestedTask] = []
        var emptied: Set<String> = []
        for tenant in tenants {
            guard var line = lines[tenant] else { continue }
            let next = line.prefix(perTenant)
            taken.append(contentsOf: next)
            line.removeFirst(next.count)
            if line.isEmpty {
                lines[tenant] = nil
                emptied.insert(tenant)
            } else {
                lines[tenant] = line
            }
        }
        if !emptied.isEmpty { tenants.removeAll(where: emptied.contains) }
        for task in taken { held.remove(task.taskID) }
        return taken
    }

    /// Drops every held entry of `slots` (lost, or to be read again); they stay pending in Redis.
    /// Returns whether any was held.
    @discardableResult
    mutating func drop(slots: Set<Int>) -> Bool {
        guard !held.isEmpty else { return false }
        let before = held.count
        for tenant in tenants {
            guard let line = lines[tenant] else { continue }
            let kept = line.filter { !slots.contains($0.slot) }
            for task in line where slots.contains(task.slot) { held.remove(task.taskID) }
            lines[tenant] = kept.isEmpty ? nil : ArraySlice(kept)
        }
        tenants.removeAll { lines[$0] == nil }
        return held.count < before
    }

    /// Drops everything held (Redis failed: the consumer reads the pending entries again).
    mutating func removeAll() {
        lines = [:]
        tenants = []
        held = []
    }
}
