import FluxAPI

extension AgentStateMachine {
    /// Decides what to do with a `dispatch`, in this order:
    /// 1. a repeat of an attempt still running → `accepted` again, nothing started;
    /// 2. a repeat of an attempt whose result awaits its ack → that result again;
    /// 3. a repeat of an attempt already finished and acked → `rejected duplicate`, not run;
    /// 4. shutting down, malformed, not on the allow-list, or at capacity → `rejected` (kept in
    ///    the outbox like any result, and the attempt counts as seen: never run later);
    /// 5. otherwise → `accepted`, then `start`.
    mutating func admit(_ dispatch: AgentMessage.Dispatch) -> [Action] {
        let attempt = AgentMessage.TaskAttempt(taskId: dispatch.taskId, attempt: dispatch.attempt)
        if running[attempt] != nil { return [.send(.accepted(attempt))] }
        if let result = outbox.message(for: attempt) { return [.send(result)] }
        if seen.contains(attempt) {
            return [.send(.rejected(.init(taskId: attempt.taskId, attempt: attempt.attempt, reason: RejectReason.duplicate)))]
        }
        seen.insert(attempt)
        if let reason = refusal(of: dispatch) {
            let rejected = AgentMessage.Rejected(taskId: attempt.taskId, attempt: attempt.attempt, reason: reason)
            return record(.rejected(rejected), for: attempt)
        }
        running[attempt] = dispatch
        return [.send(.accepted(attempt)), .start(dispatch)]
    }

    /// Why this dispatch cannot run here, or nil when it can.
    func refusal(of dispatch: AgentMessage.Dispatch) -> String? {
        if isDraining { return RejectReason.shuttingDown }
        guard Self.isWellFormed(dispatch) else { return RejectReason.invalidDispatch }
        if !configuration.allowEnvironmentOverrides, dispatch.env.keys.contains(where: Self.changesWhatRuns) {
            return RejectReason.environmentNotAllowed
        }
        if let allowed = configuration.allowedCommands {
            let resolve = configuration.resolveProgram
            guard let program = resolve(dispatch.command[0]), allowed.contains(where: { resolve($0) == program }) else {
                return RejectReason.notAllowed
            }
        }
        if running.count >= configuration.capacity { return RejectReason.noCapacity }
        return nil
    }

    /// `PATH` and the dynamic loader's `LD_*` variables decide which code a command runs.
    static func changesWhatRuns(_ name: String) -> Bool { name == "PATH" || name.hasPrefix("LD_") }

    /// The agent does not trust the wire: an argv or environment the OS would mangle is refused
    /// rather than run differently from what was asked.
    static func isWellFormed(_ dispatch: AgentMessage.Dispatch) -> Bool {
        guard let program = dispatch.command.first, !program.isEmpty, dispatch.timeoutMs > 0 else { return false }
        guard dispatch.command.allSatisfy({ !$0.utf8.contains(0) }) else { return false }
        return dispatch.env.allSatisfy { name, value in
            !name.isEmpty && !name.utf8.contains(0x3D) && !name.utf8.contains(0) && !value.utf8.contains(0)
        }
    }
}
