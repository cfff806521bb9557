/// Capped exponential reconnect delay with "equal jitter": each delay lies in [d/2, d] where d
/// doubles from `minimum` up to `maximum`. Half the delay is fixed so a flapping router is never
/// hammered; half is random so a fleet that lost its router does not reconnect in lockstep.
///
/// Pure: the caller supplies how long the last session lasted and the random source.
public struct ReconnectBackoff: Sendable {
    /// First delay, and the floor after a reset.
    public let minimum: Duration
    /// Ceiling no delay exceeds, however many failures.
    public let maximum: Duration
    /// A session at least this long counts as healthy and resets the delay to `minimum`.
    public let stableSession: Duration
    /// Consecutive failed connects (or short sessions) since the last stable one.
    public private(set) var failures: Int = 0

    /// Requires 0 < minimum ≤ maximum.
    public init(minimum: Duration, maximum: Duration, stableSession: Duration) {
        precondition(minimum > .zero && minimum <= maximum, "backoff needs 0 < minimum <= maximum")
        self.minimum = minimum
        self.maximum = maximum
        self.stableSession = stableSession
    }

    /// Records the end of a connection attempt and returns how long to wait before the next one.
    /// `sessionLasted` is `nil` when the connect itself failed.
    public mutating func nextDelay(
        sessionLasted: Duration?, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        if let sessionLasted, sessionLasted >= stableSession { failures = 0 }
        let ceiling = cappedDelay(failures: failures)
        failures += 1
        let ceilingNanos = Self.nanoseconds(ceiling)
        let jitter = Int64.random(in: 0...(ceilingNanos / 2), using: &generator)
        return .nanoseconds(ceilingNanos - jitter)
    }

    /// Forgets past failures: the next delay starts from `minimum` again (used after `moved`).
    public mutating func reset() { failures = 0 }

    func cappedDelay(failures: Int) -> Duration {
        var delay = minimum
        for _ in 0..<min(failures, 62) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
