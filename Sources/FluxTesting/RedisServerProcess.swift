import Foundation
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
    private let directory: URL
    private var process: Process?

    /// Starts the server and waits (at most `startTimeout`) until it answers.
    public init(extraArguments: [String] = [], startTimeout: Duration = .seconds(10)) async throws {
        self.extraArguments = extraArguments
        port = try Self.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await start(timeout: startTimeout)
    }

    deinit { stop() }

    /// `redis://127.0.0.1:<port>/0`, without credentials.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    /// A configuration for this server with short reconnect backoff, suited to tests.
    public var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectBackoffMaximum = .milliseconds(500)
        return configuration
    }

    /// Kills the server with SIGKILL (no goodbye to clients) and waits for it to exit.
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
        ] + extraArguments
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
    /// Asks the kernel for a free port by binding port 0 on 127.0.0.1, then releases it.
    public static func freeLoopbackPort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socketFD, socketAddress, length) == 0 && getsockname(socketFD, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
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
