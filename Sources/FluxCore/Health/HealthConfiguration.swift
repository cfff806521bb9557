/// Thresholds and rates of the health engine (docs/scheduler-design.md), with their defaults.
public struct HealthConfiguration: Hashable, Sendable {
    /// Weight of the agent's self-report in the score. Default 0.2.
    public var agentReportWeight = 0.2
    /// Weight of `1 − observed failure rate`. Default 0.5.
    public var failureRateWeight = 0.5
    /// Weight of the control plane's own probe. Default 0.3.
    public var probeWeight = 0.3
    /// EWMA factor per job outcome: `rate ← α·failed + (1−α)·rate`. Default 0.2 (about the last
    /// ten jobs matter).
    public var failureRateAlpha = 0.2
    /// Without outcomes the failure rate fades by this factor per `failureRateDecayInterval`, so a
    /// quarantined node (which gets no jobs) can earn its way back. Default 0.8 per 10 s.
    public var failureRateDecayFactor = 0.8
    /// See `failureRateDecayFactor`. Default 10 s.
    public var failureRateDecayInterval: Duration = .seconds(10)
    /// A node whose score falls below this is quarantined. Default 0.5.
    public var quarantineBelow = 0.5
    /// A quarantined node is released only above this (hysteresis). Default 0.7.
    public var releaseAbove = 0.7
    /// After this many consecutive failed jobs the self-report counts as 0 until a job succeeds.
    /// Default 5.
    public var consecutiveFailuresToDistrustReport = 5
    /// A probe round trip at or under this scores 1. Default 100 ms.
    public var probeGoodRoundTrip: Duration = .milliseconds(100)
    /// A probe round trip at or over this scores 0 (linear in between). Default 2 s.
    public var probeBadRoundTrip: Duration = .seconds(2)

    /// The defaults above.
    public init() {}
}
