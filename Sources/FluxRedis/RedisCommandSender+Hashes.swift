extension RedisCommandSender {
    /// `HSET key field value …`: returns how many fields were newly created.
    @discardableResult
    public func hset(_ key: String, fields: [(name: String, value: any RedisArgument)]) async throws(RedisError) -> Int64 {
        var command = RedisCommand("HSET", key)
        for field in fields { command.append(field.name); command.append(field.value) }
        return try await send(command).expectInt(for: "HSET")
    }

    /// `HGET key field`: nil when the field or key is absent.
    public func hget(_ key: String, field: String) async throws(RedisError) -> [UInt8]? {
        try await send(RedisCommand("HGET", key, field)).bytes
    }

    /// `HGETALL key`: every field, values as bytes (empty for a missing key).
    public func hgetall(_ key: String) async throws(RedisError) -> [String: [UInt8]] {
        let flat = try await send(RedisCommand("HGETALL", key)).expectArray(for: "HGETALL")
        guard flat.count % 2 == 0 else { throw RedisReply.unexpected("HGETALL", .array(flat)) }
        var result: [String: [UInt8]] = [:]
        result.reserveCapacity(flat.count / 2)
        for index in stride(from: 0, to: flat.count, by: 2) {
            guard let name = flat[index].string, let value = flat[index + 1].bytes else {
                throw RedisReply.unexpected("HGETALL", flat[index])
            }
            result[name] = value
        }
        return result
    }

    /// `HINCRBY key field increment`: returns the new value.
    @discardableResult
    public func hincrby(_ key: String, field: String, by increment: Int64) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("HINCRBY", key, field, increment)).expectInt(for: "HINCRBY")
    }

    /// `HDEL key field …`: returns how many fields were removed.
    @discardableResult
    public func hdel(_ key: String, fields: [String]) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("HDEL", arguments: [key] + fields)).expectInt(for: "HDEL")
    }
}
