public import FluxAPI

/// Results (`finished` or `rejected`) the shard has not acknowledged yet, oldest first.
///
/// A result leaves the outbox only on `ack` for its (taskId, attempt): until then it is resent
/// after every `welcome`, so a result survives dropped connections and shard restarts (though not
/// a restart of the agent process itself: the agent keeps nothing on disk).
public struct Outbox: Sendable {
    private var entries: [AgentMessage.TaskAttempt: Entry] = [:]
    private var nextSequence = 0

    private struct Entry: Sendable {
        var sequence: Int
        var message: AgentMessage
    }

    /// An empty outbox.
    public init() {}

    /// Adds (or replaces) the result for an attempt. A replaced result keeps its place in line.
    public mutating func put(_ message: AgentMessage, for attempt: AgentMessage.TaskAttempt) {
        if let existing = entries[attempt] {
            entries[attempt] = Entry(sequence: existing.sequence, message: message)
            return
        }
        entries[attempt] = Entry(sequence: nextSequence, message: message)
        nextSequence += 1
    }

    /// Drops the result of an acknowledged attempt; returns false if none was held.
    @discardableResult
    public mutating func acknowledge(_ attempt: AgentMessage.TaskAttempt) -> Bool {
        entries.removeValue(forKey: attempt) != nil
    }

    /// The held result of an attempt, if any.
    public func message(for attempt: AgentMessage.TaskAttempt) -> AgentMessage? { entries[attempt]?.message }

    /// All held results in the order they were first produced.
    public var pending: [AgentMessage] {
        entries.values.sorted { $0.sequence < $1.sequence }.map(\.message)
    }

    /// Results awaiting an ack.
    public var count: Int { entries.count }
    /// True when every result was acknowledged.
    public var isEmpty: Bool { entries.isEmpty }
}
