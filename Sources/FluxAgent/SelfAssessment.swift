/// The agent's own health estimate in [0, 1]: one minus an EWMA of attempts that failed through
/// the agent's fault (it could not fork, create pipes, or read output), never because of what the
/// command itself did. A command exiting non-zero says nothing about the node; the shard measures
/// that separately (docs/scheduler-design.md), and weighs this self-report at only 20 %.
struct SelfAssessment: Sendable {
    /// Weight of the newest attempt in the average.
    static let alpha = 0.2
    private(set) var faultRate = 0.0

    mutating func record(agentFault: Bool) {
        faultRate = (1 - Self.alpha) * faultRate + Self.alpha * (agentFault ? 1 : 0)
    }

    var score: Double { max(0, min(1, 1 - faultRate)) }
}
