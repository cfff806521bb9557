/// Anything that can run Redis commands: a single `RedisConnection` or a pooled `RedisClient`.
/// The command helpers (streams, sorted sets, hashes, keys, scripts) are extensions on this
/// protocol, so they work the same on both.
public protocol RedisCommandSender: Sendable {
    /// Sends one command and waits for its reply. Many calls may be in flight at once; replies
    /// are matched in order. An error reply throws `RedisError` code `server` with the
    /// server's text; a dropped connection throws `connectionLost`; no reply within the command
    /// timeout throws `timeout`.
    func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply

    /// Sends a batch of commands in one write and waits for all their replies (the fast path
    /// for bulk work: one wake-up and one continuation for the whole batch). Error replies come
    /// back as `.error` elements in place, not thrown; only a connection failure or timeout
    /// throws, and then the batch's outcome on the server is unknown.
    func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply]
}
