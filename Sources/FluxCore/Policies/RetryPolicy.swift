/// The kinds of failure that have their own backoff (docs/scheduler-design.md).
public enum FailureKind: String, Hashable, Sendable, CaseIterable {
    /// The attempt ran past its timeout.
    case timeout
    /// The command exited non-zero.
    case nonZeroExit = "non_zero_exit"
    /// The node's session was lost, or the agent crashed, during the attempt.
    case nodeLost = "node_lost"
    /// The agent refused the dispatch.
    case agentRejected = "agent_rejected"
}

/// Backoff per failure kind, carried by each task (defaults below).
///
/// A crash of the agent while running the attempt uses the `nodeLost` policy: in both cases the
/// node, not the command, is the likelier culprit, and both count toward poison detection.
public struct RetryPolicy: Hashable, Sendable {
    /// After a timeout. Default: exponential 5 s … 5 min, 3 attempts, 20 % jitter.
    public var timeout: BackoffPolicy
    /// After a non-zero exit. Default: linear 10 s steps … 2 min, 3 attempts, 10 % jitter.
    public var nonZeroExit: BackoffPolicy
    /// After a lost node or an agent crash. Default: none (retry at once elsewhere), 5 attempts.
    public var nodeLost: BackoffPolicy
    /// After the agent refused. Default: exponential 1 s … 30 s, 5 attempts, 20 % jitter.
    public var agentRejected: BackoffPolicy

    /// Creates a policy; omitted kinds take the defaults.
    public init(
        timeout: BackoffPolicy = RetryPolicy.defaultTimeout,
        nonZeroExit: BackoffPolicy = RetryPolicy.defaultNonZeroExit,
        nodeLost: BackoffPolicy = RetryPolicy.defaultNodeLost,
        agentRejected: BackoffPolicy = RetryPolicy.defaultAgentRejected
    ) {
        self.timeout = timeout
        self.nonZeroExit = nonZeroExit
        self.nodeLost = nodeLost
        self.agentRejected = agentRejected
    }

    /// The policy for one failure kind.
    public subscript(kind: FailureKind) -> BackoffPolicy {
        switch kind {
        case .timeout: timeout
        case .nonZeroExit: nonZeroExit
        case .nodeLost: nodeLost
        case .agentRejected: agentRejected
        }
    }

    /// Every kind at its default.
    public static let `default` = RetryPolicy()

    /// Default for timeouts.
    public static let defaultTimeout = BackoffPolicy(
        kind: .exponential, baseDelay: .seconds(5), maxDelay: .seconds(300), maxAttempts: 3, jitter: 0.2)
    /// Default for non-zero exits.
    public static let defaultNonZeroExit = BackoffPolicy(
        kind: .linear, baseDelay: .seconds(10), maxDelay: .seconds(120), maxAttempts: 3, jitter: 0.1)
    /// Default for lost nodes and agent crashes.
    public static let defaultNodeLost = BackoffPolicy(kind: .none, maxAttempts: 5)
    /// Default for agent rejections.
    public static let defaultAgentRejected = BackoffPolicy(
        kind: .exponential, baseDelay: .seconds(1), maxDelay: .seconds(30), maxAttempts: 5, jitter: 0.2)

    /// A policy that never retries: every failure is final.
    public static let noRetries = RetryPolicy(
        timeout: BackoffPolicy(kind: .none, maxAttempts: 1),
        nonZeroExit: BackoffPolicy(kind: .none, maxAttempts: 1),
        nodeLost: BackoffPolicy(kind: .none, maxAttempts: 1),
        agentRejected: BackoffPolicy(kind: .none, maxAttempts: 1))
}
