/// The health state machine of one node: inputs are job outcomes, self-reports and probes;
/// output is a score and the quarantine flag with hysteresis (docs/scheduler-design.md).
///
/// ```
///            score < quarantineBelow
///   HEALTHY ─────────────────────────▶ QUARANTINED
///      ▲                                    │
///      └────── score > releaseAbove ◀───────┘   (time fades the failure rate)
/// ```
public struct NodeHealth: Hashable, Sendable {
    /// Last self-report, `[0, 1]`. Starts at 1 (a fresh agent is trusted until shown otherwise).
    public private(set) var agentReport: Double = 1
    /// Last probe mapped to `[0, 1]`. Starts at 1.
    public private(set) var probe: Double = 1
    /// Failed jobs in a row since the last success.
    public private(set) var consecutiveFailures = 0
    /// Whether the node is quarantined.
    public private(set) var isQuarantined = false
    private var failures: DecayingRate

    /// A fresh node at `now`.
    public init(now: Timestamp) {
        failures = DecayingRate(now: now.milliseconds)
    }

    /// What changed in the quarantine state after an input.
    public enum Change: Hashable, Sendable {
        /// Nothing.
        case none
        /// Crossed below the quarantine threshold.
        case quarantined
        /// Crossed above the release threshold.
        case released
    }

    /// The score with its components as of `now`.
    public func score(at now: Timestamp, configuration c: HealthConfiguration) -> HealthScore {
        let rate = failures.value(
            at: now.milliseconds, factor: c.failureRateDecayFactor,
            intervalMilliseconds: c.failureRateDecayInterval.wholeMilliseconds)
        let distrusted = consecutiveFailures >= c.consecutiveFailuresToDistrustReport
        let report = distrusted ? 0 : agentReport
        let value = c.agentReportWeight * report + c.failureRateWeight * (1 - rate) + c.probeWeight * probe
        return HealthScore(agentReport: agentReport, effectiveAgentReport: report, failureRate: rate, probe: probe, value: value)
    }

    /// Just the score value, with the decay interval precomputed (placement's hot path).
    func scoreValue(at now: Timestamp, configuration c: HealthConfiguration, decay: Int64) -> Double {
        let rate = failures.value(at: now.milliseconds, factor: c.failureRateDecayFactor, intervalMilliseconds: decay)
        let report = consecutiveFailures >= c.consecutiveFailuresToDistrustReport ? 0 : agentReport
        return c.agentReportWeight * report + c.failureRateWeight * (1 - rate) + c.probeWeight * probe
    }

    /// Folds in one job outcome.
    public mutating func recordJob(failed: Bool, now: Timestamp, configuration c: HealthConfiguration) -> Change {
        failures.record(
            failed: failed, alpha: c.failureRateAlpha, now: now.milliseconds,
            factor: c.failureRateDecayFactor, intervalMilliseconds: c.failureRateDecayInterval.wholeMilliseconds)
        consecutiveFailures = failed ? consecutiveFailures + 1 : 0
        return evaluate(now: now, configuration: c)
    }

    /// Records a self-report (clamped to `[0, 1]`).
    public mutating func recordAgentReport(_ report: Double, now: Timestamp, configuration c: HealthConfiguration) -> Change {
        agentReport = Self.clamp(report)
        return evaluate(now: now, configuration: c)
    }

    /// Records a probe: success maps the round trip linearly from 1 (≤ good) to 0 (≥ bad).
    public mutating func recordProbe(_ result: ProbeResult, now: Timestamp, configuration c: HealthConfiguration) -> Change {
        switch result {
        case .failed:
            probe = 0
        case .ok(let roundTrip):
            let good = Double(c.probeGoodRoundTrip.wholeMilliseconds)
            let bad = Double(c.probeBadRoundTrip.wholeMilliseconds)
            let trip = Double(roundTrip.wholeMilliseconds)
            probe = bad <= good ? (trip <= good ? 1 : 0) : Self.clamp((bad - trip) / (bad - good))
        }
        return evaluate(now: now, configuration: c)
    }

    /// Re-checks the thresholds (time alone can release a node).
    public mutating func evaluate(now: Timestamp, configuration c: HealthConfiguration) -> Change {
        let value = score(at: now, configuration: c).value
        if !isQuarantined && value < c.quarantineBelow {
            isQuarantined = true
            return .quarantined
        }
        if isQuarantined && value > c.releaseAbove {
            isQuarantined = false
            return .released
        }
        return .none
    }

    private static func clamp(_ value: Double) -> Double {
        value.isNaN ? 0 : min(1, max(0, value))
    }
}

/// The control plane's own check of a node (session ping, optional HTTP probe).
public enum ProbeResult: Hashable, Sendable {
    /// Answered after `roundTrip`.
    case ok(roundTrip: Duration)
    /// Did not answer.
    case failed
}
