extension RedisCommandSender {
    /// `PING`: returns the server's answer (`PONG`).
    @discardableResult
    public func ping() async throws(RedisError) -> String {
        try await send(RedisCommand("PING")).expectString(for: "PING")
    }

    /// `GET key`: the value as bytes, nil when absent.
    public func get(_ key: String) async throws(RedisError) -> [UInt8]? {
        try await send(RedisCommand("GET", key)).bytes
    }

    /// `SET key value`.
    public func set(_ key: String, _ value: some RedisArgument) async throws(RedisError) {
        _ = try await send(RedisCommand("SET", key, value))
    }

    /// `SET key value [NX] [PX ms]`: returns whether the value was set (false when `nx` and the
    /// key exists). The building block of leases and locks.
    @discardableResult
    public func set(_ key: String, _ value: some RedisArgument, nx: Bool, px: Duration? = nil) async throws(RedisError) -> Bool {
        var command = RedisCommand("SET", key, value)
        if nx { command.append("NX") }
        if let px { command.append("PX"); command.append(Swift.max(1, px.milliseconds)) }
        return try await !send(command).isNull
    }

    /// `DEL key …`: returns how many keys were removed.
    @discardableResult
    public func del(_ keys: String...) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("DEL", arguments: keys)).expectInt(for: "DEL")
    }

    /// `EXPIRE key seconds` (rounded down, at least 1): returns whether a timeout was set.
    @discardableResult
    public func expire(_ key: String, after duration: Duration) async throws(RedisError) -> Bool {
        try await send(RedisCommand("EXPIRE", key, Swift.max(1, duration.components.seconds))).expectInt(for: "EXPIRE") == 1
    }

    /// `PEXPIRE key milliseconds` (at least 1): returns whether a timeout was set.
    @discardableResult
    public func pexpire(_ key: String, after duration: Duration) async throws(RedisError) -> Bool {
        try await send(RedisCommand("PEXPIRE", key, Swift.max(1, duration.milliseconds))).expectInt(for: "PEXPIRE") == 1
    }

    /// `INCR key`: returns the new value.
    @discardableResult
    public func incr(_ key: String) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("INCR", key)).expectInt(for: "INCR")
    }

    /// `EXISTS key …`: how many of the keys exist.
    public func exists(_ keys: String...) async throws(RedisError) -> Int64 {
        try await send(RedisCommand("EXISTS", arguments: keys)).expectInt(for: "EXISTS")
    }
}
