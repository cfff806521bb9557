/// Backpressure at the door (issue 16, direction 8): how long the shard's waiting tasks would
/// take to drain at the rate they have lately been dispatched, and which tenants to refuse new
/// submissions from once that passes `maxBacklogMs` — only tenants holding at least their
/// weighted share of the waiting tasks, so a flood is refused at submit (429 `backlog`) instead
/// of accepted and shed later, and a tenant within its share is never refused for it.
///
/// Pure: the driver loop feeds it dispatches and the core's figures with the time; the verdict
/// is published in the member record, where routers read it (docs/api/router.md).
struct Backpressure: Sendable {
    /// Backlog beyond which tenants over their share are refused (`--max-backlog-ms`; 0: never).
    let maxBacklogMs: Int64
    /// The drain rate is measured over this many one-second buckets.
    static let windowSeconds = 5
    private var buckets: [(second: Int64, count: Int)] = []

    init(maxBacklogMs: Int64) {
        self.maxBacklogMs = maxBacklogMs
    }

    /// What the door should do now.
    struct Verdict: Sendable, Equatable {
        /// Waiting tasks ÷ dispatches per second, in ms (0 when nothing waits).
        var backlogMs: Int64
        /// Tenants refused until the backlog is back under the bound.
        var refusing: [String]
        /// How long a refused tenant is told to wait (`Retry-After`); 0 when nobody is refused.
        var retryAfterMs: Int64 = 0
        /// While the shard is DEGRADED: tenants at or over their share of the outstanding work,
        /// whose submissions of classes above `degradedMaxClass` are refused (429 `degraded`).
        var degradedRefusing: [String] = []
        /// The least urgent class DEGRADED still accepts from everyone (P3).
        var degradedMaxClass = 3
    }

    mutating func dispatched(_ count: Int = 1, atMs nowMs: Int64) {
        let second = nowMs / 1_000
        if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1].count += count
        } else {
            buckets.append((second, count))
        }
        buckets.removeAll { $0.second <= second - Int64(Self.windowSeconds) }
    }

    /// Dispatches per second over the window, or over the time since the first dispatch in it
    /// when that is shorter (at least a second), so a shard that just started dispatching is not
    /// taken for a slow one.
    func drainPerSecond(nowMs: Int64) -> Double {
        let second = nowMs / 1_000
        let recent = buckets.filter { $0.second > second - Int64(Self.windowSeconds) }
        guard let first = recent.first else { return 0 }
        let elapsed = Double(nowMs - first.second * 1_000) / 1_000
        return Double(recent.reduce(0) { $0 + $1.count }) / max(elapsed, 1)
    }

    /// `waiting` tasks drain at the measured rate. A shard that dispatched nothing lately (no
    /// agent, none free) is not overloaded but idle or blocked: its work waits, bounded by
    /// `maxQueued`, and nobody is refused for it.
    func verdict(waiting: Int, overShare: [String], nowMs: Int64) -> Verdict {
        let rate = drainPerSecond(nowMs: nowMs)
        guard waiting > 0, rate > 0 else { return Verdict(backlogMs: 0, refusing: []) }
        let backlogMs = Int64((Double(waiting) / rate * 1_000).rounded())
        guard maxBacklogMs > 0, backlogMs > maxBacklogMs, !overShare.isEmpty else { return Verdict(backlogMs: backlogMs, refusing: []) }
        // The backlog beyond the bound, between 1 and 5 s: it is looked at again every 250 ms,
        // and a longer wait would only idle the client.
        return Verdict(backlogMs: backlogMs, refusing: overShare.sorted(), retryAfterMs: min(5_000, max(1_000, backlogMs - maxBacklogMs)))
    }
}
