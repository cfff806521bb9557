/// A set of nodes likely to fail together: a zone, or a rack within a zone.
public enum FailureDomain: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// An availability zone.
    case zone(String)
    /// A rack, scoped by its zone (rack names repeat across zones).
    case rack(zone: String, rack: String)

    /// `zone:<z>` or `rack:<z>/<r>`; stable, used in metrics labels and the debug snapshot.
    public var description: String {
        switch self {
        case .zone(let zone): "zone:\(zone)"
        case .rack(let zone, let rack): "rack:\(zone)/\(rack)"
        }
    }

    public static func < (lhs: FailureDomain, rhs: FailureDomain) -> Bool { lhs.description < rhs.description }
}

/// Thresholds of failure-domain isolation (docs/scheduler-design.md), with their defaults.
public struct FailureDomainConfiguration: Hashable, Sendable {
    /// EWMA factor per job outcome in the domain. Default 0.05 (a domain sees many outcomes).
    public var failureRateAlpha = 0.05
    /// Above this failure rate the domain is throttled. Default 0.3.
    public var throttleAbove = 0.3
    /// A throttled domain recovers below this (hysteresis). Default 0.2.
    public var recoverBelow = 0.2
    /// The rate fades by this factor per `decayInterval` without outcomes. Default 0.8 per 10 s.
    public var decayFactor = 0.8
    /// See `decayFactor`. Default 10 s.
    public var decayInterval: Duration = .seconds(10)
    /// Dispatches per second allowed into a throttled domain (token bucket rate). Default 20.
    public var throttledDispatchesPerSecond = 20
    /// Token bucket burst. Default 20.
    public var throttledBurst = 20

    /// The defaults above.
    public init() {}
}

/// The isolation state machine of one failure domain: EWMA of outcomes, throttle with
/// hysteresis, and the token bucket that limits (never stops) dispatches while throttled.
struct FailureDomainState: Sendable {
    let domain: FailureDomain
    private var rate: DecayingRate
    private(set) var isThrottled = false
    private var bucket: TokenBucket
    /// Nodes in the domain (handles), so throttle changes can update placement counters.
    var nodes: [UInt32] = []

    init(domain: FailureDomain, now: Int64, configuration c: FailureDomainConfiguration) {
        self.domain = domain
        rate = DecayingRate(now: now)
        bucket = TokenBucket(ratePerSecond: c.throttledDispatchesPerSecond, burst: c.throttledBurst, now: now)
    }

    func failureRate(at now: Int64, configuration c: FailureDomainConfiguration) -> Double {
        rate.value(at: now, factor: c.decayFactor, intervalMilliseconds: c.decayInterval.wholeMilliseconds)
    }

    /// Folds in an outcome; returns true if the throttle state flipped.
    mutating func record(failed: Bool, now: Int64, configuration c: FailureDomainConfiguration) -> Bool {
        rate.record(
            failed: failed, alpha: c.failureRateAlpha, now: now,
            factor: c.decayFactor, intervalMilliseconds: c.decayInterval.wholeMilliseconds)
        return evaluate(now: now, configuration: c)
    }

    /// Re-checks the thresholds; returns true if the throttle state flipped.
    mutating func evaluate(now: Int64, configuration c: FailureDomainConfiguration) -> Bool {
        let current = failureRate(at: now, configuration: c)
        if !isThrottled && current > c.throttleAbove {
            isThrottled = true
            bucket.reset(now: now)
            return true
        }
        if isThrottled && current < c.recoverBelow {
            isThrottled = false
            return true
        }
        return false
    }

    func hasToken(now: Int64) -> Bool { bucket.available(now: now) >= 1 }

    mutating func takeToken(now: Int64) { bucket.take(now: now) }

    func tokens(now: Int64) -> Int { bucket.available(now: now) }
}
