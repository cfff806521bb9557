/// How long to wait before the next attempt after one kind of failure, and how many attempts
/// the task gets in all (docs/scheduler-design.md).
///
/// The delay before retry `n` (1-based: the wait after attempt `n` failed) is
/// - `none`: 0 — retry at once (on another node if health moved it);
/// - `linear`: `base · n`;
/// - `exponential`: `base · 2^(n−1)`;
/// capped at `maxDelay`, then shortened by jitter: `delay · (1 − jitter · u)` with `u ∈ [0, 1)`
/// drawn from `SplitMix64` seeded by the task id and attempt, so the same task and attempt always
/// get the same delay and the result lies in `[delay · (1 − jitter), delay]`.
public struct BackoffPolicy: Hashable, Sendable {
    /// The shape of the delay sequence.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// No wait.
        case none
        /// Grows by `base` per retry.
        case linear
        /// Doubles per retry.
        case exponential
    }

    /// Delay shape.
    public var kind: Kind
    /// First delay (and linear step).
    public var baseDelay: Duration
    /// Upper bound on any delay before jitter.
    public var maxDelay: Duration
    /// Total attempts allowed (first run included) when failures are of this kind; ≥ 1.
    public var maxAttempts: Int
    /// Fraction in `[0, 1]` by which jitter may shorten a delay.
    public var jitter: Double

    /// Creates a policy; `maxAttempts` is clamped to ≥ 1 and `jitter` to `[0, 1]`.
    public init(kind: Kind, baseDelay: Duration = .zero, maxDelay: Duration = .seconds(300), maxAttempts: Int, jitter: Double = 0) {
        self.kind = kind
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = max(1, maxAttempts)
        self.jitter = min(1, max(0, jitter))
    }

    /// The delay in milliseconds before retry `retry` (1-based), before jitter.
    public func nominalDelayMilliseconds(retry: Int) -> Int64 {
        let base = max(0, baseDelay.wholeMilliseconds)
        let cap = max(0, maxDelay.wholeMilliseconds)
        let step = Int64(max(1, retry))
        switch kind {
        case .none:
            return 0
        case .linear:
            let (product, overflow) = base.multipliedReportingOverflow(by: step)
            return overflow ? cap : min(cap, product)
        case .exponential:
            let shift = min(step - 1, 62)
            let (product, overflow) = base.multipliedReportingOverflow(by: Int64(1) << shift)
            return overflow ? cap : min(cap, product)
        }
    }

    /// The jittered delay before retry `retry`, deterministic in `seed` (see type docs).
    public func delayMilliseconds(retry: Int, seed: UInt64) -> Int64 {
        let nominal = nominalDelayMilliseconds(retry: retry)
        guard jitter > 0, nominal > 0 else { return nominal }
        var generator = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: retry))
        let shortening = Double(nominal) * jitter * generator.nextUnitDouble()
        return nominal - Int64(shortening)
    }
}
