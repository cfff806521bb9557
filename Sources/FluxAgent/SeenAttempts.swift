public import FluxAPI

/// The attempts this agent process has ever accepted or rejected, so that a dispatch repeated by
/// a reconnect, a shard restart or a router retry is never executed twice.
///
/// Bounded: after `limit` attempts the oldest are forgotten (first in, first out). The default
/// window of 100 000 attempts costs a few MiB and outlasts any sane redelivery; a shard that
/// redelivers an attempt older than that is broken in a way the agent cannot fix.
public struct SeenAttempts: Sendable {
    /// Attempts remembered before the oldest are forgotten.
    public let limit: Int
    private var members: Set<AgentMessage.TaskAttempt> = []
    private var order: [AgentMessage.TaskAttempt] = []
    private var head = 0

    /// An empty window of `limit` attempts.
    public init(limit: Int = 100_000) {
        precondition(limit > 0, "limit must be positive")
        self.limit = limit
    }

    /// Whether this attempt was accepted or rejected before (within the window).
    public func contains(_ attempt: AgentMessage.TaskAttempt) -> Bool { members.contains(attempt) }

    /// Attempts currently remembered.
    public var count: Int { members.count }

    /// Records an attempt; returns false when it was already known.
    @discardableResult
    public mutating func insert(_ attempt: AgentMessage.TaskAttempt) -> Bool {
        guard members.insert(attempt).inserted else { return false }
        order.append(attempt)
        if members.count > limit { evictOldest() }
        return true
    }

    private mutating func evictOldest() {
        members.remove(order[head])
        head += 1
        // Compact once the dead prefix dominates, keeping appends amortised O(1).
        if head > limit {
            order.removeFirst(head)
            head = 0
        }
    }
}
