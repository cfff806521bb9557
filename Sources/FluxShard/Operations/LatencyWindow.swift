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
    /// a slow Redis, and then the median of them (the lower one of an even count) is the
    /// latency. Not the fastest: a PING that arrives while Redis runs a long script waits the
    /// rest of it, so against scripts run back to back the answers spread evenly between 0 and
    /// the script's length, and the fastest of ten is a tenth of it (a Redis busy 1 s at a time
    /// read as 60 ms, and never degraded the shard). A single slow answer among few fast ones
    /// still reads as fast.
    func p99(nowMs: Int64) -> Duration? {
        let window = samples.filter { nowMs - $0.atMs <= spanMs }
        let recent = window.map(\.latency).sorted()
        guard recent.count >= minimumSamples else {
            guard recent.count >= 2, let oldest = window.map(\.atMs).min(), nowMs - oldest >= Self.sparseAfterMs else { return nil }
            return recent[(recent.count - 1) / 2]
        }
        let rank = Int((Double(recent.count) * 0.99).rounded(.up))
        return recent[max(0, min(recent.count - 1, rank - 1))]
    }
}
