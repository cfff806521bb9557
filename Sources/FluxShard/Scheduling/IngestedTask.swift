import FluxRedis
import FluxRuntime

/// A submission read from a slot's ingest stream together with the scheduling fields of its
/// record: everything the core needs to run admission, nothing it does not (no argv).
struct IngestedTask: Sendable {
    var slot: Int
    var entryID: String
    var taskID: String
    /// The record's fields (`TaskRecord.schedulingFields`), empty when the record is gone.
    var fields: [String: String]

    /// Fields fetched for admission and for rebuilding the scheduler from Redis.
    static let schedulingFields = [
        "tenant", "state", "priority", "cpu_cost", "timeout_ms", "deadline_ms", "node", "selector",
        "retry", "created_ms", "enqueued_ms", "attempt", "assigned_node", "due_ms", "kind",
    ]

    static func fetchCommand(slot: Int, taskID: String) -> RedisCommand {
        var command = RedisCommand("HMGET", SlotKeys(slot: slot).task(taskID))
        for field in schedulingFields { command.append(field) }
        return command
    }

    static func fields(from reply: RedisReply) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in zip(schedulingFields, reply.array ?? []) {
            if let text = value.string { fields[name] = text }
        }
        return fields
    }
}
