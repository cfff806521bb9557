public import FluxAPI
import FluxRedis

extension TaskStore {
    /// Largest page a client may ask for.
    public static let maxPageSize = 500
    /// A page stops growing once its records pass this many bytes (it then ends with a cursor),
    /// so no listing — 500 records of 32 KiB commands and 8 KiB output tails — can hold a Redis
    /// connection or a response for long.
    public static let maxPageBytes = 1 << 20
    /// The record fields `TaskRecord.view` reads: a listing never fetches a task's env or retry.
    static let viewFields = [
        "id", "tenant", "state", "priority", "cpu_cost", "command", "timeout_ms", "node", "selector", "attempt",
        "assigned_node", "reason", "created_ms", "updated_ms", "deadline_ms", "exit_code", "output_tail", "duration_ms",
    ]

    /// One page of the tenant's tasks, oldest first, optionally only those in `state`.
    ///
    /// The cursor is `<createdMs>.<taskId>` of the last task returned. Paging resumes right after
    /// that task's rank in the tenant index (ties on time are ordered by id, as in any zset), or,
    /// if the task has expired meanwhile, after its time. A page scans at most 10 × `limit` index
    /// entries, so a rare state filter returns short pages with a cursor rather than a slow one.
    public func list(tenant: String, state: String?, limit: Int, cursor: String?) async throws -> TaskPage {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let index = keys.tenantTasks(tenant)
        let start = try await startRank(index: index, cursor: cursor)
        let window = state == nil ? limit : limit * 10
        let ids = try await redis.send(RedisCommand("ZRANGE", index, String(start), String(start + window - 1)))
            .array?.compactMap(\.string) ?? []
        let hashes = try await redis.pipeline(ids.map { id in
            var command = RedisCommand("HMGET", keys.task(id))
            for field in Self.viewFields { command.append(field) }
            return command
        })
        var tasks: [TaskView] = []
        var last: TaskView?
        var bytes = 0
        var full = false
        for reply in hashes {
            guard tasks.count < limit, !full else { break }
            let values = (reply.array ?? []).map(\.string)
            var hash: [String: String] = [:]
            for (field, value) in zip(Self.viewFields, values) {
                if let value { hash[field] = value; bytes += value.utf8.count }
            }
            guard let view = TaskRecord.view(from: hash) else { continue }
            last = view
            if state == nil || view.state == state { tasks.append(view) }
            full = bytes >= Self.maxPageBytes
        }
        let exhausted = ids.count < window && tasks.count < limit && !full
        let next = exhausted ? nil : last.map { "\($0.createdAtMs).\($0.id)" }
        return TaskPage(tasks: tasks, nextCursor: next)
    }

    private func startRank(index: String, cursor: String?) async throws -> Int {
        guard let cursor else { return 0 }
        let parts = cursor.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let createdMs = Int64(parts[0]), TaskIDs.isWellFormed(parts[1]) else {
            throw HTTPProblem(.badRequest, code: "invalid_field", message: "cursor: not a cursor this API returned", field: "cursor")
        }
        if let rank = try await redis.send(RedisCommand("ZRANK", index, String(parts[1]))).int {
            return Int(rank) + 1
        }
        let count = try await redis.send(RedisCommand("ZCOUNT", index, "-inf", String(createdMs))).int ?? 0
        return Int(count)
    }

    static func stringHash(_ reply: RedisReply) -> [String: String] {
        var result: [String: String] = [:]
        let flat = reply.array ?? []
        var index = 0
        while index + 1 < flat.count {
            if let field = flat[index].string { result[field] = flat[index + 1].string ?? "" }
            index += 2
        }
        return result
    }
}
