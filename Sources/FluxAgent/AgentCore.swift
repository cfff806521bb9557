import FluxAPI
import Logging
import Synchronization

/// The one place the agent's mutable state lives: the state machine, the current session's
/// outbound stream, and the kill switches of running attempts, all behind one mutex.
///
/// The machine's actions are non-blocking hand-offs (yield a frame to the session writer, yield a
/// dispatch to the task runner, trip a kill switch, end the outbound stream). They are performed
/// before the lock is released, so frames leave in exactly the order the machine decided them;
/// the real I/O happens in the session's writer task and in the executor.
final class AgentCore: Sendable {
    private struct State {
        var machine: AgentStateMachine
        var outbound: AsyncStream<AgentMessage>.Continuation?
        var killSwitches: [AgentMessage.TaskAttempt: KillSwitch] = [:]
        var closeReason: AgentStateMachine.CloseReason?
        var isStopping = false
    }

    private let state: Mutex<State>
    private let work: AsyncStream<AgentMessage.Dispatch>.Continuation
    private let logger: Logger

    init(machine: AgentStateMachine, work: AsyncStream<AgentMessage.Dispatch>.Continuation, logger: Logger) {
        self.state = Mutex(State(machine: machine))
        self.work = work
        self.logger = logger
    }

    /// A session opened: from now on `send` actions go to `outbound`; says hello.
    func attach(_ outbound: AsyncStream<AgentMessage>.Continuation) {
        apply { state in
            state.closeReason = nil
            guard !state.isStopping else {
                outbound.finish()
                return []
            }
            state.outbound = outbound
            return state.machine.connected()
        }
    }

    /// The session ended: stops routing frames to it and returns why the agent closed it, if it did.
    func detach() -> AgentStateMachine.CloseReason? {
        state.withLock { state in
            state.outbound?.finish()
            state.outbound = nil
            state.machine.disconnected()
            return state.closeReason
        }
    }

    /// Feeds one event to the machine and performs the resulting actions.
    func handle(_ event: (inout AgentStateMachine) -> [AgentStateMachine.Action]) {
        apply { state in event(&state.machine) }
    }

    private func apply(_ event: (inout State) -> [AgentStateMachine.Action]) {
        let notes: [String] = state.withLock { state in
            event(&state).compactMap { perform($0, in: &state) }
        }
        for note in notes { logger.warning("\(note)") }
    }

    /// Performs one action under the lock; returns a note to log, if any.
    private func perform(_ action: AgentStateMachine.Action, in state: inout State) -> String? {
        switch action {
        case .send(let message):
            state.outbound?.yield(message)
        case .start(let dispatch):
            state.killSwitches[AgentMessage.TaskAttempt(taskId: dispatch.taskId, attempt: dispatch.attempt)] = KillSwitch()
            work.yield(dispatch)
        case .kill(let attempt):
            state.killSwitches[attempt]?.trip(.cancelled)
        case .closeSession(let reason):
            state.closeReason = reason
            state.outbound?.finish()
        case .ignored(let note):
            return "ignored: \(note)"
        }
        return nil
    }

    /// The kill switch created when the attempt was started.
    func killSwitch(for attempt: AgentMessage.TaskAttempt) -> KillSwitch {
        state.withLock { $0.killSwitches[attempt] } ?? KillSwitch()
    }

    /// Reports an attempt's end to the machine (which keeps the result until acked).
    func finished(_ result: TaskResult) {
        let attempt = AgentMessage.TaskAttempt(taskId: result.finished.taskId, attempt: result.finished.attempt)
        apply { state in
            state.killSwitches.removeValue(forKey: attempt)
            return state.machine.taskFinished(result.finished, agentFault: result.agentFault)
        }
    }

    /// Stops taking work; running attempts carry on.
    func beginShutdown() { state.withLock { $0.machine.beginShutdown() } }

    /// Kills every running attempt (the shutdown grace period is over).
    func killAll(_ reason: KillSwitch.Reason) {
        state.withLock { state in state.killSwitches.values.forEach { $0.trip(reason) } }
    }

    /// Ends the current session, if any, and refuses to open another (the agent is stopping).
    func stopSessions() {
        state.withLock { state in
            state.isStopping = true
            state.outbound?.finish()
        }
    }

    /// No more dispatches will be started; the task runner ends once running attempts finish.
    func finishWork() { work.finish() }

    var runningCount: Int { state.withLock { $0.machine.running.count } }
    var pendingResults: Int { state.withLock { $0.machine.outbox.count } }
    var isReady: Bool { state.withLock { $0.machine.isReady } }
    var heartbeatInterval: Duration? { state.withLock { $0.machine.heartbeatInterval } }
}
