public import FluxAPI

extension AgentStateMachine {
    /// What the runtime must do after an event. The machine never does I/O itself.
    public enum Action: Sendable, Hashable {
        /// Write this frame on the current session.
        case send(AgentMessage)
        /// Start executing this attempt (already recorded as running and as seen).
        case start(AgentMessage.Dispatch)
        /// Kill this running attempt; its `finished` follows through `taskFinished`.
        case kill(AgentMessage.TaskAttempt)
        /// Close the current session and reconnect after the given kind of pause.
        case closeSession(CloseReason)
        /// Nothing to do, but worth a log line: a frame that made no sense here.
        case ignored(String)
    }

    /// Why the agent itself ends a session; decides how the reconnect backoff treats it.
    public enum CloseReason: Sendable, Hashable {
        /// The server said `moved`: reconnect promptly, the router will route us anew.
        case moved(String)
        /// The server refused the hello with `error`: back off as after a failed connect.
        case refused(APIProblem)
    }

    /// Where the session stands.
    public enum Phase: Sendable, Hashable {
        case disconnected
        /// Connected, `hello` sent, no `welcome` yet: only `welcome`, `error` and `ping` count.
        case awaitingWelcome
        /// Welcomed by `shard`: dispatches are taken, results and health flow.
        case ready(shard: String)
    }

    /// Rejection reasons sent in `rejected`; stable strings the shard may match on.
    public enum RejectReason {
        /// `capacity` attempts already run.
        public static let noCapacity = "no_capacity"
        /// `argv[0]` is not on the allow-list.
        public static let notAllowed = "not_allowed"
        /// The agent is draining for shutdown.
        public static let shuttingDown = "shutting_down"
        /// Empty argv, NUL bytes, a bad environment name, or a timeout ≤ 0.
        public static let invalidDispatch = "invalid_dispatch"
        /// This attempt was already run (or refused) and its result acknowledged: not run again.
        public static let duplicate = "duplicate"
        /// The dispatch sets `PATH` or an `LD_*` variable and the agent does not allow overrides.
        public static let environmentNotAllowed = "env_not_allowed"
    }
}
