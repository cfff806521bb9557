/// What FluxForge's stores need from Redis, whether it is one server (`RedisClient`) or a Redis
/// Cluster (`RedisClusterClient`): commands and pipelines (routed by their keys on a cluster)
/// and connections of their own for blocking reads, on the node that serves the key read.
///
/// Stores hold `any RedisBackend`, so which deployment they run on is decided once, where the
/// process builds its client from `--redis`, and nowhere else.
public protocol RedisBackend: RedisCommandSender {
    /// A new connection outside any pool, owned (and closed) by the caller, to the node that
    /// serves `key`: for `XREAD`/`XREADGROUP … BLOCK`, which would stall a shared connection.
    /// Every key a command on it names must be in `key`'s hash slot on a cluster.
    func makeDedicatedConnection(forKey key: String) async throws(RedisError) -> RedisConnection

    /// Closes the pooled connections; dedicated ones are their owners' to close.
    func close() async

    /// `commands` in one pipeline, each part followed by `WAIT replicas timeoutMs` on the
    /// connection that wrote it (one part on one server; one per master on a cluster).
    /// `confirmed`: the fewest replicas a `WAIT` counted (0 when a cluster had to re-send an
    /// element on its own, with no `WAIT` behind it). The writes happened either way.
    func pipeline(_ commands: [RedisCommand], waitingForReplicas replicas: Int, timeoutMs: Int) async throws(RedisError)
        -> (replies: [RedisReply], confirmed: Int)

    /// True on a Redis Cluster: one command may name keys of one hash slot only, so a read of
    /// many slots' streams is one command per stream, and a dedicated connection reaches only
    /// the keys of its node.
    var oneHashSlotPerCommand: Bool { get }
}

extension RedisClient: RedisBackend {
    public var oneHashSlotPerCommand: Bool { false }

    public func pipeline(_ commands: [RedisCommand], waitingForReplicas replicas: Int, timeoutMs: Int) async throws(RedisError)
        -> (replies: [RedisReply], confirmed: Int) {
        var replies = try await pipeline(commands + [RedisCommand("WAIT", replicas, timeoutMs)])
        let confirmed = Int(replies.popLast()?.int ?? 0)
        return (replies, confirmed)
    }

    /// One server serves every key: the same as `makeDedicatedConnection()`.
    public func makeDedicatedConnection(forKey key: String) async throws(RedisError) -> RedisConnection {
        try await makeDedicatedConnection()
    }
}

extension RedisClusterClient: RedisBackend {
    public var oneHashSlotPerCommand: Bool { true }

    public func pipeline(_ commands: [RedisCommand], waitingForReplicas replicas: Int, timeoutMs: Int) async throws(RedisError)
        -> (replies: [RedisReply], confirmed: Int) {
        try await splitPipeline(commands, waitFor: (replicas, timeoutMs))
    }
}
