/// The body of `POST /v1/tenants/{tenant}/tasks`: what a tenant asks FluxForge to run.
///
/// Decoding is strict (unknown fields are rejected) and `validate()` checks every range, so a
/// submission that passes both can be written to Redis as it is.
public struct TaskSubmission: Codable, Sendable, Hashable {
    /// argv of the command the agent runs; no shell is involved unless argv[0] is one.
    public var command: [String]
    /// Extra environment variables for the command.
    public var env: [String: String]
    /// Priority class, 0 (most urgent) … 10 (best effort).
    public var priority: Int
    /// CPU units the task holds while in flight, counted against the tenant's CPU budget.
    public var cpuCost: Int
    /// How long one attempt may run before it is failed as `timeout`.
    public var timeoutMs: Int
    /// Optional: the task ends as DEADLINE_EXCEEDED this long after submission, whatever its state.
    public var deadlineAfterMs: Int?
    /// Optional: run only on this node.
    public var node: String?
    /// Optional: run only on nodes whose labels include all of these.
    public var selector: [String: String]
    /// Retry policy for failed attempts; nil keeps the scheduler's per-failure-type defaults.
    public var retry: RetrySpec?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, env, priority, cpuCost, timeoutMs, deadlineAfterMs, node, selector, retry
    }

    public init(
        command: [String], env: [String: String] = [:], priority: Int = TaskLimits.defaultPriority,
        cpuCost: Int = 1, timeoutMs: Int = TaskLimits.defaultTimeoutMs, deadlineAfterMs: Int? = nil,
        node: String? = nil, selector: [String: String] = [:], retry: RetrySpec? = nil
    ) {
        self.command = command
        self.env = env
        self.priority = priority
        self.cpuCost = cpuCost
        self.timeoutMs = timeoutMs
        self.deadlineAfterMs = deadlineAfterMs
        self.node = node
        self.selector = selector
        self.retry = retry
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        command = try c.decode([String].self, forKey: .command)
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        priority = try c.decodeIntegerIfPresent(Int.self, forKey: .priority) ?? TaskLimits.defaultPriority
        cpuCost = try c.decodeIntegerIfPresent(Int.self, forKey: .cpuCost) ?? 1
        timeoutMs = try c.decodeIntegerIfPresent(Int.self, forKey: .timeoutMs) ?? TaskLimits.defaultTimeoutMs
        deadlineAfterMs = try c.decodeIntegerIfPresent(Int.self, forKey: .deadlineAfterMs)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        selector = try c.decodeIfPresent([String: String].self, forKey: .selector) ?? [:]
        retry = try c.decodeIfPresent(RetrySpec.self, forKey: .retry)
    }
}

/// How failed attempts are retried. When given, one policy for every failure type; when left
/// out, the scheduling core's per-failure-type defaults apply (docs/scheduler-design.md).
public struct RetrySpec: Codable, Sendable, Hashable {
    /// Attempts in all, the first one included (1 = never retry).
    public var maxAttempts: Int
    /// `none`, `linear` or `exponential`.
    public var backoff: String
    /// First delay; linear adds it per attempt, exponential doubles it.
    public var baseDelayMs: Int
    /// Cap on any single delay.
    public var maxDelayMs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts, backoff, baseDelayMs, maxDelayMs
    }

    public init(maxAttempts: Int = 3, backoff: String = "exponential", baseDelayMs: Int = 1_000, maxDelayMs: Int = 60_000) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RetrySpec()
        maxAttempts = try c.decodeIntegerIfPresent(Int.self, forKey: .maxAttempts) ?? defaults.maxAttempts
        backoff = try c.decodeIfPresent(String.self, forKey: .backoff) ?? defaults.backoff
        baseDelayMs = try c.decodeIntegerIfPresent(Int.self, forKey: .baseDelayMs) ?? defaults.baseDelayMs
        maxDelayMs = try c.decodeIntegerIfPresent(Int.self, forKey: .maxDelayMs) ?? defaults.maxDelayMs
    }
}
