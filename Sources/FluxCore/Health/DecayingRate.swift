/// An EWMA of failures (1) and successes (0) that also fades toward 0 as time passes; or, fed
/// with `add`, a count of recent events that fades alike (a tenant's recent arrivals).
///
/// Time fading uses whole decay steps (`factor^steps`, by repeated squaring) instead of `pow`,
/// so the core needs no Foundation and every platform computes bit-identical values.
struct DecayingRate: Hashable, Sendable {
    private(set) var value: Double = 0
    /// The time up to which fading has been applied (advanced in whole steps).
    private var fadedUntil: Int64

    init(now: Int64) {
        fadedUntil = now
    }

    /// The rate as of `now` without changing state.
    func value(at now: Int64, factor: Double, intervalMilliseconds: Int64) -> Double {
        let steps = Self.steps(from: fadedUntil, to: now, interval: intervalMilliseconds)
        return steps == 0 ? value : value * Self.power(factor, steps)
    }

    /// Applies fading up to `now`.
    mutating func fade(to now: Int64, factor: Double, intervalMilliseconds: Int64) {
        let steps = Self.steps(from: fadedUntil, to: now, interval: intervalMilliseconds)
        guard steps > 0 else { return }
        value *= Self.power(factor, steps)
        fadedUntil += steps * intervalMilliseconds
    }

    /// Fades to `now`, then folds in one outcome with weight `alpha`.
    mutating func record(failed: Bool, alpha: Double, now: Int64, factor: Double, intervalMilliseconds: Int64) {
        fade(to: now, factor: factor, intervalMilliseconds: intervalMilliseconds)
        value = alpha * (failed ? 1 : 0) + (1 - alpha) * value
    }

    /// Fades to `now`, then adds `amount` (a count of events, not an outcome).
    mutating func add(_ amount: Double, now: Int64, factor: Double, intervalMilliseconds: Int64) {
        fade(to: now, factor: factor, intervalMilliseconds: intervalMilliseconds)
        value += amount
    }

    private static func steps(from start: Int64, to now: Int64, interval: Int64) -> Int64 {
        guard interval > 0, now > start else { return 0 }
        return (now - start) / interval
    }

    static func power(_ base: Double, _ exponent: Int64) -> Double {
        var result = 1.0
        var factor = base
        var remaining = exponent
        while remaining > 0 && result > 1e-12 {
            if remaining & 1 == 1 { result *= factor }
            factor *= factor
            remaining >>= 1
        }
        return remaining > 0 ? 0 : result
    }
}
