extension RedisCommandSender {
    /// `ZADD key score member …`: returns how many members were newly added.
    @discardableResult
    public func zadd(_ key: String, members: [(score: Double, member: String)]) async throws(RedisError) -> Int64 {
        var command = RedisCommand("ZADD", key)
        for entry in members { command.append(entry.score); command.append(entry.member) }
        return try await send(command).expectInt(for: "ZADD")
    }

    /// `ZADD key score member` for a single member.
    @discardableResult
    public func zadd(_ key: String, score: Double, member: String) async throws(RedisError) -> Int64 {
        try await zadd(key, members: [(score, member)])
    }

    /// `ZREM key member …`: returns how many members were removed.
    @discardableResult
    public func zrem(_ key: String, members: [String]) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("ZREM", arguments: [key] + members)).expectInt(for: "ZREM")
    }

    /// `ZCARD key`.
    public func zcard(_ key: String) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("ZCARD", key)).expectInt(for: "ZCARD")
    }

    /// `ZSCORE key member`: nil when the member is absent.
    public func zscore(_ key: String, member: String) async throws(RedisError) -> Double? {
        let reply = try await send(RedisCommand("ZSCORE", key, member))
        if reply.isNull { return nil }
        guard let score = reply.double else { throw RedisReply.unexpected("ZSCORE", reply) }
        return score
    }

    /// `ZRANGE key min max BYSCORE [LIMIT offset count] WITHSCORES`, lowest score first.
    /// Use `-.infinity`/`.infinity` for open ends.
    public func zrangeByScore(
        _ key: String, min: Double, max: Double, limit: (offset: Int, count: Int)? = nil
    ) async throws(RedisError) -> [(member: String, score: Double)] {
        var command = RedisCommand("ZRANGE", key, min, max, "BYSCORE")
        if let limit { command.append("LIMIT"); command.append(limit.offset); command.append(limit.count) }
        command.append("WITHSCORES")
        let flat = try await send(command).expectArray(for: "ZRANGE")
        guard flat.count % 2 == 0 else { throw RedisReply.unexpected("ZRANGE", .array(flat)) }
        var result: [(member: String, score: Double)] = []
        result.reserveCapacity(flat.count / 2)
        for index in stride(from: 0, to: flat.count, by: 2) {
            guard let member = flat[index].string, let score = flat[index + 1].double else {
                throw RedisReply.unexpected("ZRANGE", flat[index])
            }
            result.append((member, score))
        }
        return result
    }
}
