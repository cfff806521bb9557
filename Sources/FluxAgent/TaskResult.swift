public import FluxAPI

/// What the executor hands back for one attempt: the `finished` frame to report, plus what the
/// frame cannot say (whether the agent killed it, whether a failure was the agent's own fault).
public struct TaskResult: Sendable, Hashable {
    /// The frame reported to the shard.
    public var finished: AgentMessage.Finished
    /// Set when the agent killed the attempt (timeout or cancel) and that kill ended it.
    public var killedBy: KillSwitch.Reason?
    /// True when the agent could not do its job (fork, pipes, reading output failed). Lowers the
    /// agent's self-score; a command's own failure never does.
    public var agentFault: Bool

    /// A result; defaults describe a command that ended by itself.
    public init(finished: AgentMessage.Finished, killedBy: KillSwitch.Reason? = nil, agentFault: Bool = false) {
        self.finished = finished
        self.killedBy = killedBy
        self.agentFault = agentFault
    }
}
