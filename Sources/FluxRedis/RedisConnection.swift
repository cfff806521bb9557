public import Logging
public import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection to Redis. Safe to share between tasks: commands from concurrent callers
/// are pipelined on the wire and their replies matched in order. The owner closes it.
///
/// Use a connection of your own (not the pool's) for blocking commands such as
/// `XREADGROUP … BLOCK`: a blocked command holds up every command queued behind it.
public final class RedisConnection: RedisCommandSender, Sendable {
    /// The settings this connection was opened with (timeouts apply per command).
    public let configuration: RedisConfiguration
    /// The event loop the connection's I/O and reply dispatch run on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    private let channel: any Channel
    private let outbox: RedisOutbox
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let logger: Logger
    private let executor: RedisEventLoopExecutor

    private init(channel: any Channel, handler: NIOLoopBound<RedisChannelHandler>, outbox: RedisOutbox,
                 configuration: RedisConfiguration, logger: Logger) {
        self.channel = channel
        self.handler = handler
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
        executor = RedisEventLoopExecutor(eventLoop: channel.eventLoop)
    }

    /// Connects, authenticates (`AUTH [user] password` when a password is configured) and
    /// selects the configured database. Throws `connectionRefused` (or `timeout`) when the
    /// server cannot be reached and `authenticationFailed` when `AUTH` is rejected.
    ///
    /// With `configuration.sentinel` set, it connects to the master the sentinels name, and only
    /// if that node answers `ROLE` as a master (`RedisSentinelResolver`); the connection's
    /// `configuration` then holds the master's address and no `sentinel`.
    public static func connect(
        configuration: RedisConfiguration,
        eventLoop: (any EventLoop)? = nil,
        logger: Logger = Logger(label: "FluxRedis")
    ) async throws(RedisError) -> RedisConnection {
        let eventLoop = eventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        if configuration.sentinel != nil {
            return try await RedisSentinelResolver.connectToMaster(configuration: configuration, eventLoop: eventLoop, logger: logger)
        }
        let channel = try await openChannel(configuration: configuration, eventLoop: eventLoop, logger: logger)
        let connection: RedisConnection
        do {
            connection = try await channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self)
                return RedisConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                                       outbox: handler.outbox, configuration: configuration, logger: logger)
            }.get()
        } catch {
            channel.close(promise: nil)
            throw .connectionLost("connection closed during setup: \(error)")
        }
        try await connection.handshake()
        logger.debug("redis connected", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"])
        return connection
    }

    /// Sends on this connection, pipelined behind whatever is in flight; see `RedisCommandSender.send`.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        var bytes = channel.allocator.buffer(capacity: command.bytes.count + 8 * command.argumentCount + 16)
        HiredisFormatter.write(command, into: &bytes)
        let request = RedisRequest(bytes: bytes, replyCount: 1, waiter: RedisWaiter(expected: 1),
                                   timeout: TimeAmount(configuration.commandTimeout + (command.blockingDuration ?? .zero)))
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if request.waiter.attach(.single(continuation)) { outbox.submit(request) }
            }
        } onCancel: {
            request.waiter.fail(.cancelled())
        }
        let reply = try result.get()
        if case .error(let text) = reply { throw .server(text) }
        return reply
    }

    /// Sends the batch on this connection, pipelined behind whatever is in flight; see `RedisCommandSender.pipeline`.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let timeout = TimeAmount(configuration.commandTimeout + commands.reduce(.zero) { $0 + ($1.blockingDuration ?? .zero) })
        let waiter = RedisWaiter(expected: commands.count)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard waiter.attach(.batch(continuation)) else { return }
                for start in stride(from: 0, to: commands.count, by: Self.batchPartSize) {
                    let part = commands[start..<min(start + Self.batchPartSize, commands.count)]
                    outbox.submit(RedisRequest(bytes: encode(part), replyCount: part.count, waiter: waiter, timeout: timeout))
                }
            }
        } onCancel: {
            waiter.fail(.cancelled())
        }
        return try result.get()
    }

    /// Large batches are written in parts of this many commands, so Redis starts on the first
    /// part while the rest is still being formatted: formatting a batch takes about as long as
    /// Redis takes to run it. Each part is its own FIFO entry; all share one `RedisWaiter`.
    static let batchPartSize = 256

    private func encode(_ commands: ArraySlice<RedisCommand>) -> ByteBuffer {
        var bytes = channel.allocator.buffer(capacity: commands.count * 48)
        for command in commands { HiredisFormatter.write(command, into: &bytes) }
        return bytes
    }

    /// Closes the connection. Commands still pending fail with `closed`; so do later ones.
    public func close() async {
        let handler = self.handler
        outbox.close(with: .closed())
        try? await eventLoop.submit { handler.value.close(reason: .closed()) }.get()
        try? await channel.closeFuture.get()
    }

    /// A task executor running on this connection's event loop. Latency-sensitive sequential
    /// callers can run under `withTaskExecutorPreference(connection.taskExecutor) { … }` so each
    /// awaited round trip stays on one thread (no hop to the loop and back); keep such code short
    /// and non-blocking, it shares the thread with the connection's I/O.
    public var taskExecutor: any TaskExecutor { executor }

    /// True once the connection was closed or lost; it never reopens (the pool replaces it).
    public var isClosed: Bool { outbox.isClosed }
}

extension RedisConnection {
    private static func openChannel(
        configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger
    ) async throws(RedisError) -> any Channel {
        let tls: NIOSSLContext?
        do { tls = try configuration.tls ? tlsContext(configuration) : nil } catch {
            throw RedisError(code: .connectionRefused, message: "TLS for \(configuration.host):\(configuration.port) cannot be set up: \(error)")
        }
        // SNI carries names only: for an IP address NIOSSL checks the certificate's IP SANs.
        let serverName = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(logger: logger))
                }
            }
        do {
            return try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch ChannelError.connectTimeout {
            throw RedisError(code: .timeout, message: "connecting to \(configuration.host):\(configuration.port) timed out")
        } catch {
            throw RedisError(code: .connectionRefused,
                             message: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }

    private static func tlsContext(_ configuration: RedisConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile = configuration.tlsCAFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        return try NIOSSLContext(configuration: tls)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil })
    }

    private func handshake() async throws(RedisError) {
        do {
            if let password = configuration.password {
                try await authenticate(password: password)
            }
            if configuration.database != 0 {
                _ = try await send(RedisCommand("SELECT", configuration.database))
            }
        } catch {
            await close()
            throw error
        }
    }

    private func authenticate(password: String) async throws(RedisError) {
        let command = configuration.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
        do {
            _ = try await send(command)
        } catch where error.code == .server {
            throw RedisError(code: .authenticationFailed, message: error.message)
        }
    }
}
