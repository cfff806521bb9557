public import FluxAPI
import Foundation

/// A task the reconciler made: `kind` is `check` or `apply`, `desired` the desired state's name.
/// Stored in the task record, so a person reading a task sees why it exists, and the core treats
/// a check's exit code as an answer (`TaskSpec.exitCodeIsAnswer`).
public struct TaskOrigin: Sendable, Hashable {
    public var kind: String
    public var desired: String
    public init(kind: String, desired: String) {
        self.kind = kind
        self.desired = desired
    }
}

/// The task hash `ff:{sN}:task:<id>` as typed Swift, and the conversions both ways.
///
/// Structured fields (argv, env, selector, retry) are stored as compact JSON strings so that a
/// person reading Redis sees exactly what was submitted; scalars are plain decimal strings.
public enum TaskRecord {
    /// The field/value pairs written by the submit script for a new task.
    public static func fields(
        id: String, tenant: String, submission: TaskSubmission, nowMs: Int64, idempotencyKey: String?,
        origin: TaskOrigin? = nil
    ) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("id", id), ("tenant", tenant), ("state", "QUEUED"), ("reason", "submitted"),
            ("priority", String(submission.priority)), ("cpu_cost", String(submission.cpuCost)),
            ("timeout_ms", String(submission.timeoutMs)),
            ("command", json(submission.command)), ("env", json(submission.env)),
            ("selector", json(submission.selector)), ("retry", json(submission.retry)),
            ("attempt", "0"), ("created_ms", String(nowMs)), ("updated_ms", String(nowMs)),
            // In none of the ready/delayed/inflight sets yet (the transition script reads this).
            ("queue", ""),
        ]
        if let node = submission.node { fields.append(("node", node)) }
        if let after = submission.deadlineAfterMs { fields.append(("deadline_ms", String(nowMs + Int64(after)))) }
        if let idempotencyKey { fields.append(("idem_key", idempotencyKey)) }
        if let origin { fields += [("kind", origin.kind), ("desired", origin.desired)] }
        return fields
    }

    /// Decodes a task hash (HGETALL) into the API view; nil when the hash is empty or damaged.
    public static func view(from hash: [String: String]) -> TaskView? {
        guard let id = hash["id"], let tenant = hash["tenant"], let state = hash["state"] else { return nil }
        let result: TaskResult? = hash["exit_code"].flatMap(Int.init).map {
            TaskResult(exitCode: $0, outputTail: hash["output_tail"] ?? "", durationMs: int(hash["duration_ms"]))
        }
        return TaskView(
            id: id, tenant: tenant, state: state, priority: int(hash["priority"]), cpuCost: int(hash["cpu_cost"]),
            command: decode([String].self, hash["command"]) ?? [], timeoutMs: int(hash["timeout_ms"]),
            node: hash["node"], selector: decode([String: String].self, hash["selector"]) ?? [:],
            attempt: int(hash["attempt"]), assignedNode: hash["assigned_node"], reason: hash["reason"],
            createdAtMs: int64(hash["created_ms"]), updatedAtMs: int64(hash["updated_ms"]),
            deadlineAtMs: hash["deadline_ms"].flatMap(Int64.init), result: result)
    }

    static func int(_ text: String?) -> Int { text.flatMap(Int.init) ?? 0 }
    static func int64(_ text: String?) -> Int64 { text.flatMap(Int64.init) ?? 0 }

    /// Compact, key-sorted JSON: the same value always gives the same bytes.
    public static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
