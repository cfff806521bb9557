import Foundation
import Synchronization
public import FluxRedis
#if canImport(Glibc)
import Glibc
#endif

/// A private `redis-server` for tests that must kill, restart or reconfigure their server
/// (the shared test server must not be disturbed). It listens on a free port on 127.0.0.1
/// only, keeps its files in a fresh temporary directory, and is killed and cleaned up by
/// `stop()` or, at the latest, when the object is released.
public final class RedisServerProcess {
    /// The loopback port; stays the same across `restart()`.
    public let port: Int
    /// Extra `redis-server` arguments, e.g. `["--requirepass", "secret"]`.
    public let extraArguments: [String]
    /// PEM files when the server speaks TLS only (`--tls-port`, no plain port).
    public let tls: (certificate: String, key: String, ca: String)?
    private let directory: URL
    private var process: Process?

    /// Starts the server and waits (at most `startTimeout`) until it answers.
    public init(
        extraArguments: [String] = [], tls: (certificate: String, key: String, ca: String)? = nil, startTimeout: Duration = .seconds(10)
    ) async throws {
        self.extraArguments = extraArguments
        self.tls = tls
        port = try Self.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await start(timeout: startTimeout)
    }

    deinit { stop() }

    /// `redis://127.0.0.1:<port>/0` (`rediss://…?ca=` with TLS), without credentials.
    public var url: String { tls.map { "rediss://127.0.0.1:\(port)/0?ca=\($0.ca)" } ?? "redis://127.0.0.1:\(port)/0" }

    /// A configuration for this server with short reconnect backoff, suited to tests.
    public var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectBackoffMaximum = .milliseconds(500)
        configuration.tls = tls != nil
        configuration.tlsCAFile = tls?.ca
        return configuration
    }

    /// Kills the server with SIGKILL (no goodbye to clients) and waits for it to exit.
    /// The server's process id while it runs (to freeze it with SIGSTOP).
    public var pid: Int32? { process.map(\.processIdentifier) }

    public func kill() {
        guard let process else { return }
        self.process = nil
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Starts the server again on the same port and waits until it answers.
    public func restart(timeout: Duration = .seconds(10)) async throws {
        kill()
        try await start(timeout: timeout)
    }

    /// Kills the server and removes its directory. Safe to call more than once.
    public func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private func start(timeout: Duration) async throws {
        let process = Process()
        process.executableURL = try Self.findExecutable("redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "redis.log",
        ] + (tls.map { ["--port", "0", "--tls-port", String(port), "--tls-cert-file", $0.certificate, "--tls-key-file", $0.key,
                        "--tls-ca-cert-file", $0.ca, "--tls-auth-clients", "no"] } ?? []) + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await waitUntilAnswering(timeout: timeout)
    }

    /// Polls with PING until the server replies at all (an error such as NOAUTH counts).
    private func waitUntilAnswering(timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var lastError: (any Error)?
        while clock.now < deadline {
            guard process?.isRunning == true else { throw ServerError.exited(port: port, log: log()) }
            do {
                let connection = try await RedisConnection.connect(configuration: configuration)
                _ = try? await connection.send(RedisCommand("PING"))
                await connection.close()
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw ServerError.notAnswering(port: port, lastError: "\(lastError.map { "\($0)" } ?? "none")")
    }

    private func log() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
    }

    enum ServerError: Error {
        case exited(port: Int, log: String)
        case notAnswering(port: Int, lastError: String)
        case notFound(String)
    }
}

extension RedisServerProcess {
    /// A loopback port nothing uses now, for a process a test is about to start.
    ///
    /// Taken from below the kernel's ephemeral range (which the kernel hands to client
    /// connections: a port from there can be taken by some connection between this call and the
    /// server's bind) and above `cluster/test`'s own range, in turn from a per-process counter so
    /// two tests of this process never get the same port; each candidate is checked by binding it.
    public static func freeLoopbackPort() throws -> Int {
        let ceiling = ephemeralRangeStart()
        for _ in 0..<4_000 {
            let offset = nextPortOffset.wrappingAdd(1, ordering: .relaxed).oldValue
            let candidate = portFloor + offset % (ceiling - portFloor)
            if canBind(candidate) { return candidate }
        }
        throw POSIXError(.EADDRINUSE)
    }

    static let portFloor = 20_000
    private static let nextPortOffset = Atomic<Int>(Int.random(in: 0..<5_000))

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range` (32768 when unreadable).
    static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
        return low > portFloor + 1_000 ? low : 32_768
    }

    /// True when 127.0.0.1:`port` can be bound now.
    static func canBind(_ port: Int) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Finds an executable on PATH (plus the usual system directories).
    static func findExecutable(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        for directory in directories {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ServerError.notFound("\(name) not found on PATH")
    }
}
