public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// A `RedisCommandSender` for a Redis Cluster: it learns which master owns which hash slot
/// (`CLUSTER SHARDS`), sends each command straight to the master of its key's slot through a
/// `RedisClient` pool per master, and follows the cluster as it changes: `MOVED` refreshes the
/// routing table, `ASK` is answered with a one-shot `ASKING`, and a failover is ridden out with
/// a few bounded retries. Everything that works on a `RedisClient` (helpers, `RedisScript`)
/// works on it, provided each command's keys share one slot (use `{hash tags}`).
///
/// A command is tried again only when it certainly did not run (see `RedisClusterVerdict`):
/// after a redirection, a `CLUSTERDOWN`/`TRYAGAIN`-style refusal, or a connection failure
/// before it was written. A command whose connection dropped after it was written fails with
/// `connectionLost`, as on `RedisClient`: it may have run, and only the caller knows whether
/// running it twice is safe.
public final class RedisClusterClient: RedisCommandSender, Sendable {
    /// The nodes asked for the topology first (and again when no known node answers).
    public let seeds: [RedisConfiguration]
    /// Bounds on retrying one command while the cluster changes.
    public let retryPolicy: RedisClusterRetryPolicy
    let group: any EventLoopGroup
    let logger: Logger
    let state = Mutex(State())

    /// Creates the client without connecting; the topology is read on first use. Every node is
    /// reached with the first seed's settings (credentials, pool size, timeouts, TLS) at its
    /// announced address; `database` is ignored (a cluster has only database 0).
    public init(
        seeds: [RedisConfiguration],
        retryPolicy: RedisClusterRetryPolicy = RedisClusterRetryPolicy(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "FluxRedis.cluster")
    ) {
        precondition(!seeds.isEmpty, "a Redis cluster client needs at least one seed node")
        self.seeds = seeds
        self.retryPolicy = retryPolicy
        group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.logger = logger
    }

    /// Sends to the master of the command's slot (keyless commands: the master of slot 0),
    /// following redirections and retrying as described on the type. An error reply throws
    /// `server` with the server's text; giving up throws the last error with the attempts added.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let reply = try await execute(command, route: command.clusterRoute)
        if case .error(let text) = reply { throw .server(text) }
        return reply
    }

    /// Splits the batch by master, sends the parts concurrently and returns the replies in the
    /// caller's order; see `RedisClusterClient+Pipeline.swift` for redirected elements.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        try await splitPipeline(commands)
    }

    /// The routing table in use, read from the cluster on first call.
    public func topology() async throws(RedisError) -> RedisClusterTopology {
        try await currentTopology().topology
    }

    /// Reads the topology from the cluster now and installs it (a caller that knows the cluster
    /// changed need not wait for a `MOVED`). Concurrent calls share one read.
    @discardableResult
    public func refreshTopology() async throws(RedisError) -> RedisClusterTopology {
        let seen = state.withLock { $0.generation }
        return try await refreshedTopology(after: seen).topology
    }

    /// A new connection, outside the pools, to the master that owns `slot` now; the caller owns
    /// and closes it. For blocking reads (`XREADGROUP … BLOCK`), which would stall a pooled
    /// connection. It follows no redirection: after a failover or slot move its commands get
    /// `MOVED` or a lost connection, and the caller makes a new one.
    public func makeDedicatedConnection(forSlot slot: Int) async throws(RedisError) -> RedisConnection {
        var (topology, generation) = try await currentTopology()
        if topology.master(forSlot: slot) == nil { (topology, generation) = try await refreshedTopology(after: generation) }
        guard let endpoint = topology.master(forSlot: slot) else {
            throw RedisError(code: .server, message: "CLUSTERDOWN no master owns slot \(slot) in the cluster's topology")
        }
        return try await RedisConnection.connect(configuration: configuration(for: endpoint), eventLoop: group.next(), logger: logger)
    }

    /// `makeDedicatedConnection(forSlot:)` for the slot of `key`.
    public func makeDedicatedConnection(forKey key: String) async throws(RedisError) -> RedisConnection {
        try await makeDedicatedConnection(forSlot: RedisHashSlot.slot(forKey: key))
    }

    /// Sends `command` once to every master (for `SCRIPT LOAD`, `SCRIPT FLUSH`, `FLUSHALL`,
    /// `INFO`: commands whose effect or answer is per node). Error replies come back in place;
    /// the first connection failure throws. No retries.
    public func sendToEveryMaster(_ command: RedisCommand) async throws(RedisError) -> [RedisClusterEndpoint: RedisReply] {
        let masters = try await currentTopology().topology.masterEndpoints
        var replies: [RedisClusterEndpoint: RedisReply] = [:]
        for endpoint in masters {
            let reply = await attempt(command, on: endpoint, asking: false)
            replies[endpoint] = try reply.get()
        }
        return replies
    }

    /// Closes every pool; pending and later commands fail with `closed`. Dedicated connections
    /// are the caller's to close.
    public func close() async {
        let (pools, refresh) = state.withLock { $0.close() }
        refresh?.cancel()
        for pool in pools { await pool.close() }
    }

    /// The settings for one node: the first seed's, at the node's address, database 0.
    func configuration(for endpoint: RedisClusterEndpoint) -> RedisConfiguration {
        var configuration = seeds[0]
        configuration.host = endpoint.host
        configuration.port = endpoint.port
        configuration.database = 0
        return configuration
    }

    /// The pool of `endpoint`, made on first use.
    func pool(for endpoint: RedisClusterEndpoint) throws(RedisError) -> RedisClient {
        let pool = state.withLock { state in
            state.pool(for: endpoint) {
                RedisClient(configuration: configuration(for: endpoint), eventLoopGroup: group, logger: logger)
            }
        }
        guard let pool else { throw .closed("the Redis cluster client was closed") }
        return pool
    }
}
