public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// A small pool of Redis connections for ordinary (non-blocking) commands. Connections open
/// lazily on first use; each command goes to the next connection round-robin, and many commands
/// share one connection by pipelining. A lost connection is replaced on the next call; failed
/// connects back off exponentially (capped), during which callers fail fast with the last error
/// instead of waiting. Commands are never retried: a caller whose command was in flight when the
/// connection dropped gets `connectionLost` and decides for itself (`RedisError.wasNeverSent`
/// tells it when the command certainly did not run).
public final class RedisClient: RedisCommandSender, Sendable {
    /// The settings the pool connects with.
    public let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let loops: [any EventLoop]
    private let state: Mutex<StateMachine>

    /// Creates the pool without connecting. `eventLoopGroup` defaults to
    /// `MultiThreadedEventLoopGroup.singleton`; the logger is used as given (never bootstrapped).
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "FluxRedis")
    ) {
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.configuration = configuration
        self.group = group
        self.logger = logger
        let poolSize = max(1, configuration.poolSize)
        loops = (0..<poolSize).map { _ in group.next() }
        state = Mutex(StateMachine(
            poolSize: poolSize,
            backoffMinimum: TimeAmount(configuration.reconnectBackoffMinimum),
            backoffMaximum: TimeAmount(configuration.reconnectBackoffMaximum)
        ))
    }

    /// Sends on the next pooled connection (round-robin), connecting it first if needed; see `RedisCommandSender.send`.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let connection = try await leasedConnection()
        do {
            return try await connection.send(command)
        } catch {
            if error.serverErrorPrefix == "READONLY" { dropDemoted(connection) }
            throw error
        }
    }

    /// Sends the batch on the next pooled connection (round-robin), connecting it first if needed; see `RedisCommandSender.pipeline`.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let connection = try await leasedConnection()
        let replies = try await connection.pipeline(commands)
        if replies.contains(where: \.isReadOnlyError) { dropDemoted(connection) }
        return replies
    }

    /// `connection()` for a command about to be sent: a failure to get one means the command
    /// was never written, and the error says so (`wasNeverSent`).
    private func leasedConnection() async throws(RedisError) -> RedisConnection {
        do {
            return try await connection()
        } catch {
            throw error.markedNeverSent()
        }
    }

    /// With Sentinel, a pooled connection that answered `READONLY` reaches a demoted master: it
    /// leaves the pool at once, so the next command on its slot asks the sentinels again, and it
    /// is closed once the commands already on it are answered (a `PING` queued behind them comes
    /// back last). The `READONLY` error itself goes to its caller unchanged. Without Sentinel a
    /// reconnect would reach the same node, so nothing is dropped.
    private func dropDemoted(_ connection: RedisConnection) {
        guard configuration.sentinel != nil, let demoted = state.withLock({ $0.connectionDemoted(connection) }) else { return }
        logger.warning("redis connection answered READONLY (a demoted master): dropping it; the next command asks the sentinels", metadata: [
            "node": "\(demoted.configuration.host):\(demoted.configuration.port)",
        ])
        Task {
            _ = try? await demoted.send(RedisCommand("PING"))
            await demoted.close()
        }
    }

    /// A new connection outside the pool, owned (and closed) by the caller: for blocking
    /// commands such as `XREADGROUP … BLOCK`, which would stall a shared connection. With
    /// Sentinel it goes to the master the sentinels name now, checked with `ROLE`.
    public func makeDedicatedConnection() async throws(RedisError) -> RedisConnection {
        try await RedisConnection.connect(configuration: configuration, eventLoop: group.next(), logger: logger)
    }

    /// Closes every pooled connection; pending and later commands fail with `closed`.
    /// Dedicated connections are the caller's to close.
    public func close() async {
        let connections = state.withLock { $0.shutDown() }
        for connection in connections { await connection.close() }
    }

    /// A live pooled connection, connecting (or waiting for a connect in progress) if needed.
    func connection() async throws(RedisError) -> RedisConnection {
        let loops = self.loops
        let action = state.withLock { state in
            state.lease(now: .now()) { slot in loops[slot].makePromise(of: RedisConnection.self) }
        }
        switch action {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let future):
            return try await Self.value(of: future)
        case .connect(let slot, let promise):
            startConnect(slot: slot, promise: promise)
            return try await Self.value(of: promise.futureResult)
        }
    }

    private func startConnect(slot: Int, promise: EventLoopPromise<RedisConnection>) {
        let configuration = configuration, logger = logger, loop = loops[slot]
        promise.completeWithTask {
            try await RedisConnection.connect(configuration: configuration, eventLoop: loop, logger: logger)
        }
        promise.futureResult.whenComplete { [self] result in
            switch result {
            case .success(let connection):
                let orphan = state.withLock { $0.connectSucceeded(slot: slot, connection) }
                if let orphan { Task { await orphan.close() } }
            case .failure(let error):
                let redisError = Self.redisError(error)
                logger.debug("redis connect failed", metadata: ["slot": "\(slot)", "error": "\(redisError)"])
                state.withLock { $0.connectFailed(slot: slot, error: redisError, now: .now()) }
            }
        }
    }

    private static func value(of future: EventLoopFuture<RedisConnection>) async throws(RedisError) -> RedisConnection {
        do {
            return try await future.get()
        } catch {
            throw redisError(error)
        }
    }

    private static func redisError(_ error: any Error) -> RedisError {
        (error as? RedisError) ?? RedisError(code: .connectionRefused, message: "\(error)")
    }
}
