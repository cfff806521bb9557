/// A point in time in milliseconds: Unix milliseconds in production, virtual milliseconds in the
/// simulator and tests. The core never reads a clock; every `handle` call receives `now`.
///
/// Spans of time are `Duration` in the public API; the core converts them to whole milliseconds
/// once (`Duration.wholeMilliseconds`) and works in integer milliseconds internally.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Milliseconds since the epoch of the caller's choosing (Unix epoch in production).
    public var milliseconds: Int64

    /// Creates a timestamp from milliseconds.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The origin of virtual time.
    public static let zero = Timestamp(milliseconds: 0)
    /// Later than every real time; stands for "never".
    public static let distantFuture = Timestamp(milliseconds: Int64.max / 4)

    /// This time shifted by `duration` (rounded toward zero to whole milliseconds).
    public func advanced(by duration: Duration) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ duration.wholeMilliseconds)
    }

    /// This time shifted by `delta` milliseconds.
    public func advanced(byMilliseconds delta: Int64) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ delta)
    }

    /// The span from `earlier` to this time.
    public func duration(since earlier: Timestamp) -> Duration {
        .milliseconds(milliseconds - earlier.milliseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }
    public var description: String { "\(milliseconds)ms" }
}

extension Duration {
    /// The duration in whole milliseconds, rounded toward zero; the core's internal unit.
    public var wholeMilliseconds: Int64 {
        let parts = components
        return parts.seconds &* 1000 &+ parts.attoseconds / 1_000_000_000_000_000
    }
}
