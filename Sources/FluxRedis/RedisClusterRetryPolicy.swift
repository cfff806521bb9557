/// How long the cluster client keeps trying one command while the cluster changes under it (a
/// failover, a resharding), before it gives up with a clear error. Bounded both in attempts and
/// in time, so no caller hangs on a cluster that does not heal. The defaults (5 attempts,
/// backoff 100 → 200 → 400 → 800 ms, 3 s at most) cover a slot move and the client side of a
/// failover; a failover itself takes about the cluster's node timeout plus an election, so
/// callers that must ride one out retry on their own after `RedisError`.
public struct RedisClusterRetryPolicy: Sendable, Hashable {
    /// Attempts per command, the first included; redirections (`MOVED`, `ASK`) count too, which
    /// also bounds a redirection loop between two confused nodes.
    public var maximumAttempts: Int
    /// Wait before the second attempt after a failure that needs one; doubles per attempt.
    /// Redirections retry at once.
    public var backoffMinimum: Duration
    /// Cap on one wait.
    public var backoffMaximum: Duration
    /// No attempt starts once this long has passed since the first.
    public var totalBudget: Duration

    /// A policy with the defaults above.
    public init(
        maximumAttempts: Int = 5,
        backoffMinimum: Duration = .milliseconds(100),
        backoffMaximum: Duration = .seconds(1),
        totalBudget: Duration = .seconds(3)
    ) {
        self.maximumAttempts = maximumAttempts
        self.backoffMinimum = backoffMinimum
        self.backoffMaximum = backoffMaximum
        self.totalBudget = totalBudget
    }

    /// The wait after failed attempt `attempt` (1-based): `minimum × 2^(attempt-1)`, capped.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        var delay = backoffMinimum
        for _ in 1..<max(attempt, 1) {
            delay *= 2
            if delay >= backoffMaximum { return backoffMaximum }
        }
        return min(delay, backoffMaximum)
    }
}
