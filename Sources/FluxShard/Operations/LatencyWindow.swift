/// Redis command latency over a sliding window: the last `capacity` samples no older than
/// `span`. Its p99 is what the driver feeds the core as `OverloadSignal.redisLatencyP99`
/// (automatic DEGRADED above 100 ms, back below 50 ms; docs/scheduler-design.md §9).
///
/// Pure and clock-free: callers pass the sample time in, so tests drive it with plain numbers.
struct LatencyWindow: Sendable {
    let capacity: Int
    let spanMs: Int64
    /// Fewer samples than this give no p99: one slow call must not flip the mode.
    let minimumSamples: Int
    private var samples: [(atMs: Int64, latency: Duration)] = []
    /// Samples spread over this long and still fewer than `minimumSamples`: the probe is starved.
    static let sparseAfterMs: Int64 = 3_000
    private var next = 0

    init(capacity: Int = 256, span: Duration = .seconds(10), minimumSamples: Int = 20) {
        precondition(capacity > 0 && minimumSamples > 0 && minimumSamples <= capacity)
        self.capacity = capacity
        self.spanMs = span.components.seconds * 1_000 + span.components.attoseconds / 1_000_000_000_000_000
        self.minimumSamples = minimumSamples
        samples.reserveCapacity(capacity)
    }

    /// Records one round trip that ended at `atMs`.
    mutating func record(_ latency: Duration, atMs: Int64) {
        if samples.count < capacity {
            samples.append((atMs, latency))
        } else {
            samples[next] = (atMs, latency)
            next = (next + 1) % capacity
        }
    }

    /// The 99th percentile (nearest rank) of the samples taken within the span before `nowMs`.
    /// With fewer than `minimumSamples` of them: nil, unless they reach back `sparseAfterMs` or
    /// more — a probe that pings every 100 ms and got so few answers in that time is waiting on
    /// a slow Redis, and then the fastest of them is the latency (a Redis slow enough to answer
    /// under 20 PINGs in 10 s otherwise never read as slow, and never degraded the shard).
    func p99(nowMs: Int64) -> Duration? {
        let window = samples.filter { nowMs - $0.atMs <= spanMs }
        let recent = window.map(\.latency).sorted()
        guard recent.count >= minimumSamples else {
            guard recent.count >= 2, let oldest = window.map(\.atMs).min(), nowMs - oldest >= Self.sparseAfterMs else { return nil }
            return recent.first
        }
        let rank = Int((Double(recent.count) * 0.99).rounded(.up))
        return recent[max(0, min(recent.count - 1, rank - 1))]
    }
}
