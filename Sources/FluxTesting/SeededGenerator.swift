public import FluxCore

/// A seeded random generator for tests and the simulator: SplitMix64 from FluxCore, so a test's
/// seed reproduces its run exactly.
public typealias SeededGenerator = SplitMix64

/// A virtual clock for driving the scheduler in tests: time moves only when told to.
public struct ManualClock: Sendable {
    /// The current virtual time.
    public private(set) var now: Timestamp

    /// Starts at `start` (default: time zero).
    public init(start: Timestamp = .zero) {
        now = start
    }

    /// Moves time forward by `duration`; never backwards.
    public mutating func advance(by duration: Duration) {
        now = now.advanced(by: max(.zero, duration))
    }
}
