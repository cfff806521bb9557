/// The components and value of a node's health score at one moment (docs/scheduler-design.md):
/// `value = 0.2·effectiveAgentReport + 0.5·(1 − failureRate) + 0.3·probe`, each in `[0, 1]`.
public struct HealthScore: Hashable, Sendable, CustomStringConvertible {
    /// What the agent last said about itself.
    public var agentReport: Double
    /// The report as counted: 0 while the last jobs all failed (the node may be lying).
    public var effectiveAgentReport: Double
    /// EWMA of job failures, faded by time.
    public var failureRate: Double
    /// The control plane's own probe result mapped to `[0, 1]`.
    public var probe: Double
    /// The weighted score.
    public var value: Double

    /// Creates a score from its parts.
    public init(agentReport: Double, effectiveAgentReport: Double, failureRate: Double, probe: Double, value: Double) {
        self.agentReport = agentReport
        self.effectiveAgentReport = effectiveAgentReport
        self.failureRate = failureRate
        self.probe = probe
        self.value = value
    }

    public var description: String {
        "score=\(Self.format(value)) report=\(Self.format(effectiveAgentReport))/\(Self.format(agentReport)) "
            + "failureRate=\(Self.format(failureRate)) probe=\(Self.format(probe))"
    }

    /// Three decimals without Foundation.
    static func format(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = abs(scaled)
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
