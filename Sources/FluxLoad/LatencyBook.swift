import Histogram
import Synchronization

/// Matches the three moments of every task the load generator sees — sent, dispatched to one of
/// its agents, finished (the shard's `ack` of the result, i.e. durable) — and records the
/// latencies in HdrHistograms (microseconds, 3 significant digits).
///
/// The moments arrive in any order (a dispatch often beats the HTTP answer that names the task),
/// so each task's entry waits until both ends of a latency are known.
final class LatencyBook: Sendable {
    private struct Entry {
        var sent: ContinuousClock.Instant?
        var dispatched: ContinuousClock.Instant?
        /// Set when the ack came before the HTTP answer (a loaded router answers late): the
        /// entry waits for `accepted` to record both latencies.
        var finished: ContinuousClock.Instant?
        var tenant: String?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var toDispatch = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var toFinish = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var accepted = 0
        var dispatched = 0
        var finished = 0
        var errors: [String: Int] = [:]
        /// Submit → dispatch per tenant, for runs that compare tenants (the noisy neighbour).
        var toDispatchByTenant: [String: Histogram<UInt64>] = [:]
        /// Request sent → its 202 read, per tenant: how much of submit → dispatch is the door
        /// (router and Redis) and how much the shard.
        var toAnswerByTenant: [String: Histogram<UInt64>] = [:]
    }

    private static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    /// Tasks the cluster accepted, with the moment their request was meant to leave.
    func accepted(_ ids: [String], tenant: String? = nil, sentAt sent: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.accepted += ids.count
            if let tenant { state.toAnswerByTenant[tenant, default: Self.histogram()].record(Self.micros(now - sent)) }
            for id in ids {
                if let dispatched = state.entries[id]?.dispatched {
                    state.toDispatch.record(Self.micros(dispatched - sent))
                    if let tenant { state.toDispatchByTenant[tenant, default: Self.histogram()].record(Self.micros(dispatched - sent)) }
                }
                if let finished = state.entries[id]?.finished {
                    // Its result came first: both ends are known now, and the entry is done.
                    state.toFinish.record(Self.micros(finished - sent))
                    state.entries[id] = nil
                    continue
                }
                state.entries[id, default: Entry()].sent = sent
                state.entries[id]?.tenant = tenant
            }
        }
    }

    func dispatched(_ id: String, at now: ContinuousClock.Instant) {
        state.withLock { state in
            state.dispatched += 1
            if let sent = state.entries[id]?.sent {
                state.toDispatch.record(Self.micros(now - sent))
                if let tenant = state.entries[id]?.tenant {
                    state.toDispatchByTenant[tenant, default: Self.histogram()].record(Self.micros(now - sent))
                }
            }
            state.entries[id, default: Entry()].dispatched = now
        }
    }

    func finished(_ id: String, at now: ContinuousClock.Instant) {
        state.withLock { state in
            state.finished += 1
            if let sent = state.entries[id]?.sent {
                state.toFinish.record(Self.micros(now - sent))
                state.entries[id] = nil
            } else {
                // Before the HTTP answer: keep the moment for `accepted` to measure from.
                state.entries[id, default: Entry()].finished = now
            }
        }
    }

    func failed(_ kind: String, count: Int = 1) {
        state.withLock { $0.errors[kind, default: 0] += count }
    }

    /// Up to `limit` accepted tasks that have not finished, with their tenants.
    func unfinished(limit: Int) -> [(id: String, tenant: String)] {
        state.withLock { state in
            Array(state.entries.lazy.compactMap { id, entry in entry.sent == nil ? nil : entry.tenant.map { (id, $0) } }.prefix(limit))
        }
    }

    var counts: (accepted: Int, dispatched: Int, finished: Int) {
        state.withLock { ($0.accepted, $0.dispatched, $0.finished) }
    }

    func summary() -> (toDispatch: LatencySummary, toFinish: LatencySummary, errors: [String: Int]) {
        state.withLock { (LatencySummary($0.toDispatch), LatencySummary($0.toFinish), $0.errors) }
    }

    /// Up to `limit` accepted tasks never dispatched.
    func undispatched(limit: Int) -> [String] {
        state.withLock { state in
            Array(state.entries.lazy.filter { $0.value.sent != nil && $0.value.dispatched == nil }.map(\.key).prefix(limit))
        }
    }

    /// Submit → dispatch of one tenant's tasks.
    func toDispatch(tenant: String) -> LatencySummary {
        state.withLock { LatencySummary($0.toDispatchByTenant[tenant] ?? Self.histogram()) }
    }

    /// Submit → 202 of one tenant's requests.
    func toAnswer(tenant: String) -> LatencySummary {
        state.withLock { LatencySummary($0.toAnswerByTenant[tenant] ?? Self.histogram()) }
    }

    static func micros(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
}

/// Percentiles of one latency, in milliseconds.
public struct LatencySummary: Codable, Sendable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1_000 * 100).rounded() / 100 }
        p50 = ms(histogram.valueAtPercentile(50))
        p90 = ms(histogram.valueAtPercentile(90))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
    }
}
