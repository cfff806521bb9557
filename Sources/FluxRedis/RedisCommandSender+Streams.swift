extension RedisCommandSender {
    /// `XADD key [MAXLEN ~ maxLength] * field value …`: appends an entry and returns its ID.
    /// `maxLength` trims approximately (`~`), which is what keeps XADD cheap.
    public func xadd(
        _ key: String, maxLength: Int? = nil, id: String = "*", fields: [(name: String, value: any RedisArgument)]
    ) async throws(RedisError) -> String {
        var command = RedisCommand("XADD", key)
        if let maxLength { command.append("MAXLEN"); command.append("~"); command.append(maxLength) }
        command.append(id)
        for field in fields { command.append(field.name); command.append(field.value) }
        return try await send(command).expectString(for: "XADD")
    }

    /// `XGROUP CREATE key group id [MKSTREAM]`; a group that already exists (`BUSYGROUP`) is
    /// not an error, so services can call this on every start.
    public func xgroupCreate(_ key: String, group: String, id: String = "$", mkstream: Bool = true) async throws(RedisError) {
        var command = RedisCommand("XGROUP", "CREATE", key, group, id)
        if mkstream { command.append("MKSTREAM") }
        do {
            _ = try await send(command)
        } catch where error.serverErrorPrefix == "BUSYGROUP" {
            return
        }
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] STREAMS key… id…`. Returns the
    /// entries of all streams in reply order; a `BLOCK` that times out returns `[]`. With
    /// `block`, the command's timeout is extended by the block time; run blocking reads on a
    /// dedicated connection.
    public func xreadgroup(
        group: String, consumer: String, streams: [(key: String, id: String)],
        count: Int? = nil, block: Duration? = nil, noAck: Bool = false
    ) async throws(RedisError) -> [RedisStreamEntry] {
        var command = RedisCommand("XREADGROUP", "GROUP", group, consumer)
        if let count { command.append("COUNT"); command.append(count) }
        if let block {
            command.append("BLOCK")
            command.append(Int(block.milliseconds))
            command.blockingDuration = block
        }
        if noAck { command.append("NOACK") }
        command.append("STREAMS")
        for stream in streams { command.append(stream.key) }
        for stream in streams { command.append(stream.id) }
        return try RedisStreamReply.streams(try await send(command))
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key… id…`: entries after each given id, without a
    /// consumer group (watchers that keep their own position). A `BLOCK` that times out returns
    /// `[]`; with `block`, run it on a dedicated connection.
    public func xread(
        streams: [(key: String, id: String)], count: Int? = nil, block: Duration? = nil
    ) async throws(RedisError) -> [RedisStreamEntry] {
        var command = RedisCommand("XREAD")
        if let count { command.append("COUNT"); command.append(count) }
        if let block {
            command.append("BLOCK")
            command.append(Int(block.milliseconds))
            command.blockingDuration = block
        }
        command.append("STREAMS")
        for stream in streams { command.append(stream.key) }
        for stream in streams { command.append(stream.id) }
        return try RedisStreamReply.streams(try await send(command))
    }

    /// `XACK key group id…`: returns how many entries were acknowledged.
    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws(RedisError) -> Int64 {
        var command = RedisCommand("XACK", key, group)
        for id in ids { command.append(id) }
        return try await send(command).expectInt(for: "XACK")
    }

    /// `XAUTOCLAIM key group consumer min-idle start [COUNT n]`: takes over entries pending
    /// longer than `minIdle` (e.g. from a crashed consumer).
    public func xautoclaim(
        _ key: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int? = nil
    ) async throws(RedisError) -> RedisAutoclaimResult {
        var command = RedisCommand("XAUTOCLAIM", key, group, consumer, Int(minIdle.milliseconds), start)
        if let count { command.append("COUNT"); command.append(count) }
        return try RedisStreamReply.autoclaim(try await send(command), stream: key)
    }

    /// `XPENDING key group` (summary form).
    public func xpending(_ key: String, group: String) async throws(RedisError) -> RedisPendingSummary {
        try RedisStreamReply.pendingSummary(try await send(RedisCommand("XPENDING", key, group)))
    }

    /// `XLEN key`.
    public func xlen(_ key: String) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("XLEN", key)).expectInt(for: "XLEN")
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (what Redis's `BLOCK`, `PX` and idle times take).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
