public import FluxAPI

/// The agent's session and task bookkeeping as a pure state machine: events in, actions out.
///
///     disconnected ──connected──▶ awaitingWelcome ──welcome──▶ ready
///          ▲                         │ error → closeSession(refused)
///          └──────── disconnected ───┴──── moved → closeSession(moved) ───┘
///
/// Invariants: an attempt is started at most once per process (`seen`); every attempt in
/// `running` was started and has not reported `taskFinished`; every result stays in `outbox`
/// until acked; frames other than `hello` and `pong` are sent only in `ready`.
public struct AgentStateMachine: Sendable {
    /// Identity, capacity and allow-list the machine decides with.
    public let configuration: AgentConfiguration
    /// Where the session stands.
    public private(set) var phase: Phase = .disconnected
    /// Attempts started and not yet finished.
    public internal(set) var running: [AgentMessage.TaskAttempt: AgentMessage.Dispatch] = [:]
    /// Every attempt ever answered (accepted or rejected), within its bounded window.
    public internal(set) var seen: SeenAttempts
    /// Results not yet acknowledged.
    public internal(set) var outbox = Outbox()
    /// Set by `beginShutdown`: no new work is taken, running work may finish.
    public private(set) var isDraining = false
    /// Health report period the shard asked for in `welcome`; nil before it, or if it gave none.
    public private(set) var heartbeatInterval: Duration?
    var assessment = SelfAssessment()

    /// A disconnected machine with nothing running; `seenLimit` bounds the dedupe window.
    public init(configuration: AgentConfiguration, seenLimit: Int = 100_000) {
        self.configuration = configuration
        self.seen = SeenAttempts(limit: seenLimit)
    }

    /// A WebSocket session opened: introduce ourselves, including what still runs from before.
    public mutating func connected() -> [Action] {
        phase = .awaitingWelcome
        return [.send(.hello(hello()))]
    }

    /// The session ended, for whatever reason. Running attempts keep running; their results
    /// wait in the outbox for the next session.
    public mutating func disconnected() {
        phase = .disconnected
        heartbeatInterval = nil
    }

    /// A frame arrived from the server.
    public mutating func received(_ message: AgentMessage) -> [Action] {
        switch (phase, message) {
        case (.disconnected, _):
            return [.ignored("\(message.type) while disconnected")]
        case (_, .ping(let probe)):
            return [.send(.pong(probe))]
        case (.awaitingWelcome, .welcome(let welcome)):
            phase = .ready(shard: welcome.shard)
            heartbeatInterval = welcome.heartbeatIntervalMs > 0 ? .milliseconds(welcome.heartbeatIntervalMs) : nil
            return outbox.pending.map { .send($0) }
        case (.awaitingWelcome, .error(let problem)):
            return [.closeSession(.refused(problem))]
        case (.awaitingWelcome, _):
            return [.ignored("\(message.type) before welcome")]
        case (.ready, _):
            return receivedWhileReady(message)
        }
    }

    private mutating func receivedWhileReady(_ message: AgentMessage) -> [Action] {
        switch message {
        case .dispatch(let dispatch): return admit(dispatch)
        case .cancel(let attempt):
            guard running[attempt] != nil else { return [.ignored("cancel of \(attempt.label), not running")] }
            return [.kill(attempt)]
        case .ack(let attempt):
            outbox.acknowledge(attempt)  // acks are idempotent: a repeated one is no news
            return []
        case .moved(let moved): return [.closeSession(.moved(moved.reason))]
        case .error(let problem): return [.ignored("error from server: \(problem.code): \(problem.message)")]
        case .welcome: return [.ignored("second welcome")]
        default: return [.ignored("\(message.type) is an agent-to-server frame")]
        }
    }

    /// The executor spawned the attempt's process.
    public mutating func taskStarted(_ attempt: AgentMessage.TaskAttempt) -> [Action] {
        guard running[attempt] != nil, isReady else { return [] }
        return [.send(.started(attempt))]
    }

    /// The attempt ended (exit, signal, timeout, kill or spawn failure). `agentFault` marks
    /// failures that are the agent's own (cannot fork, no pipes), which lower its self-score.
    public mutating func taskFinished(_ finished: AgentMessage.Finished, agentFault: Bool = false) -> [Action] {
        let attempt = AgentMessage.TaskAttempt(taskId: finished.taskId, attempt: finished.attempt)
        precondition(running[attempt] != nil, "finished for an attempt that is not running")
        running.removeValue(forKey: attempt)
        assessment.record(agentFault: agentFault)
        return record(.finished(finished), for: attempt)
    }

    /// Periodic tick: report health while the session is up.
    public mutating func healthTick() -> [Action] {
        guard isReady else { return [] }
        let score = configuration.chaosSelfScore ?? assessment.score
        return [.send(.health(.init(selfScore: score, running: running.count)))]
    }

    /// Shutdown requested: refuse new work from now on and kill nothing yet.
    public mutating func beginShutdown() { isDraining = true }

    /// Every attempt still running, for the runtime to kill once the grace period is over.
    public var runningAttempts: [AgentMessage.TaskAttempt] { running.keys.sorted(by: AgentMessage.TaskAttempt.precedes) }

    /// True once welcomed on the current session.
    public var isReady: Bool {
        if case .ready = phase { return true }
        return false
    }

    /// Keeps a result until acked and sends it now if the session is ready.
    mutating func record(_ result: AgentMessage, for attempt: AgentMessage.TaskAttempt) -> [Action] {
        outbox.put(result, for: attempt)
        return isReady ? [.send(result)] : []
    }

    func hello() -> AgentMessage.Hello {
        AgentMessage.Hello(
            tenant: configuration.tenant, node: configuration.node, zone: configuration.zone,
            rack: configuration.rack, labels: configuration.labels, capacity: configuration.capacity,
            version: configuration.version, token: configuration.token, running: runningAttempts)
    }
}

extension AgentMessage.TaskAttempt {
    /// `taskId#attempt`, for log lines.
    public var label: String { "\(taskId)#\(attempt)" }

    static func precedes(_ a: Self, _ b: Self) -> Bool {
        (a.taskId, a.attempt) < (b.taskId, b.attempt)
    }
}
