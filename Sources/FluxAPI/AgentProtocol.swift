/// The agent protocol of docs/agent-protocol.md: JSON text frames over one WebSocket, each an object with a
/// `type` field. Agent → server: `hello`, `accepted`, `started`, `finished`, `rejected`, `health`,
/// `pong`, `renew`. Server → agent: `welcome`, `dispatch`, `cancel`, `ping`, `ack`, `moved`,
/// `error`, `renewed`.
///
/// `welcome`, `ack`, `rejected` and `error` refine the design brief: `ack` lets an agent drop a
/// buffered result only once the shard has made it durable, so results survive a shard restart.
public enum AgentMessage: Sendable, Hashable {
    case hello(Hello)
    case accepted(TaskAttempt)
    case started(TaskAttempt)
    case finished(Finished)
    case rejected(Rejected)
    case health(Health)
    case pong(Probe)
    case welcome(Welcome)
    case dispatch(Dispatch)
    case cancel(TaskAttempt)
    case ping(Probe)
    case ack(TaskAttempt)
    case moved(Moved)
    case error(APIProblem)
    /// An agent that connected with its certificate asks for a new one (a CSR for a new key)
    /// before the current one expires.
    case renew(Renew)
    /// The new certificate; the agent uses it from its next connection on.
    case renewed(EnrollmentIssued)

    /// Body of `renew`.
    public struct Renew: Codable, Sendable, Hashable {
        /// PKCS#10 PEM for the agent's new ECDSA P-256 key.
        public var csr: String
        public init(csr: String) { self.csr = csr }
    }

    /// First frame of a session: who the agent is and what it can run.
    public struct Hello: Codable, Sendable, Hashable {
        public var tenant: String
        public var node: String
        public var zone: String
        public var rack: String
        public var labels: [String: String]
        public var capacity: Int
        public var version: String
        /// Dev-mode credential (the tenant's agent token). Insecure: mTLS replaces it.
        public var token: String
        /// Attempts the agent is still running, so a restarted shard does not count them lost.
        public var running: [TaskAttempt]

        public init(
            tenant: String, node: String, zone: String, rack: String, labels: [String: String],
            capacity: Int, version: String, token: String, running: [TaskAttempt] = []
        ) {
            self.tenant = tenant
            self.node = node
            self.zone = zone
            self.rack = rack
            self.labels = labels
            self.capacity = capacity
            self.version = version
            self.token = token
            self.running = running
        }
    }

    /// Names one attempt of one task; attempts start at 1.
    public struct TaskAttempt: Codable, Sendable, Hashable {
        public var taskId: String
        public var attempt: Int
        public init(taskId: String, attempt: Int) {
            self.taskId = taskId
            self.attempt = attempt
        }
    }

    /// The outcome of one attempt as the agent saw it.
    public struct Finished: Codable, Sendable, Hashable {
        public var taskId: String
        public var attempt: Int
        public var exitCode: Int
        public var outputTail: String
        public var durationMs: Int
        /// True when the agent killed the command at its timeout.
        public var timedOut: Bool
        public init(taskId: String, attempt: Int, exitCode: Int, outputTail: String, durationMs: Int, timedOut: Bool = false) {
            self.taskId = taskId
            self.attempt = attempt
            self.exitCode = exitCode
            self.outputTail = outputTail
            self.durationMs = durationMs
            self.timedOut = timedOut
        }
    }

    /// The agent refused an attempt (not on its allow-list, no capacity, cannot start it).
    public struct Rejected: Codable, Sendable, Hashable {
        public var taskId: String
        public var attempt: Int
        public var reason: String
        public init(taskId: String, attempt: Int, reason: String) {
            self.taskId = taskId
            self.attempt = attempt
            self.reason = reason
        }
    }

    /// The agent's own view of its health in [0, 1]; the shard trusts it only so far.
    public struct Health: Codable, Sendable, Hashable {
        public var selfScore: Double
        public var running: Int
        public init(selfScore: Double, running: Int) {
            self.selfScore = selfScore
            self.running = running
        }
    }

    /// `ping`/`pong` pair; the shard measures the round trip as the external probe.
    public struct Probe: Codable, Sendable, Hashable {
        public var nonce: Int
        public init(nonce: Int) { self.nonce = nonce }
    }

    /// The shard accepted the hello.
    public struct Welcome: Codable, Sendable, Hashable {
        public var shard: String
        public var heartbeatIntervalMs: Int
        public init(shard: String, heartbeatIntervalMs: Int) {
            self.shard = shard
            self.heartbeatIntervalMs = heartbeatIntervalMs
        }
    }

    /// Run this attempt.
    public struct Dispatch: Codable, Sendable, Hashable {
        public var taskId: String
        public var attempt: Int
        public var command: [String]
        public var env: [String: String]
        public var timeoutMs: Int
        public init(taskId: String, attempt: Int, command: [String], env: [String: String], timeoutMs: Int) {
            self.taskId = taskId
            self.attempt = attempt
            self.command = command
            self.env = env
            self.timeoutMs = timeoutMs
        }
    }

    /// The tenant's slot moved to another shard: reconnect through the router.
    public struct Moved: Codable, Sendable, Hashable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }
}
