public import FluxRedis
public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `redis-server` processes of one test deployment (a Redis Cluster, a Sentinel setup), by
/// port, with their files in one fresh temporary directory: launched one by one, killed one at a
/// time (SIGKILL: no goodbye to anyone), all stopped together. What `RedisClusterProcess` and
/// `RedisSentinelProcess` share; each knows its own topology. Public for tests that must run
/// Redis with arguments of their own (DeployTests runs the deploy manifests' nodes and
/// sentinels with exactly the manifests' arguments, which neither harness accepts).
public final class RedisProcessGroup: @unchecked Sendable {
    /// Where the processes run (their working directory) and keep their files.
    public let directory: URL
    private let lock = NSLock()
    private var processes: [Int: Process] = [:]

    /// Makes the directory, named `fluxforge-<name>-<uuid>` under the temporary directory.
    public init(name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A group nobody stopped is stopped when released: no test leaves a Redis running.
    deinit { stop() }

    /// Runs `redis-server arguments` in the directory, known by `port` from then on.
    public func launch(port: Int, arguments: [String]) throws {
        let process = Process()
        process.executableURL = try RedisServerProcess.findExecutable("redis-server")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { processes[port] = process }
    }

    /// True while the process of `port` runs.
    public func isRunning(port: Int) -> Bool { lock.withLock { processes[port]?.isRunning == true } }

    /// SIGKILLs the process of `port` and waits for it to exit.
    public func kill(port: Int) {
        guard let process = lock.withLock({ processes.removeValue(forKey: port) }) else { return }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGSTOPs the process of `port`: it keeps its sockets and answers nothing, as a machine
    /// that stalls (a long GC-like pause, a VM frozen) would, until `resume(port:)`.
    public func pause(port: Int) {
        guard let process = lock.withLock({ processes[port] }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGSTOP)
    }

    /// SIGCONTs a process `pause(port:)` stopped.
    public func resume(port: Int) {
        guard let process = lock.withLock({ processes[port] }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGCONT)
    }

    /// SIGKILLs every process and removes the directory. Safe to call more than once.
    public func stop() {
        let all = lock.withLock { () -> [Process] in
            defer { processes = [:] }
            return Array(processes.values)
        }
        for process in all where process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        for process in all { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The last `lines` of a log file in the directory, for failure messages.
    public func logTail(_ file: String, lines: Int) -> String {
        let text = (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Sends one command to the process on `configuration`'s port on a connection of its own,
    /// closed after.
    public static func command(_ command: RedisCommand, configuration: RedisConfiguration) async throws -> RedisReply {
        let connection = try await RedisConnection.connect(configuration: configuration)
        do {
            let reply = try await connection.send(command)
            await connection.close()
            return reply
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Polls `ping` every 20 ms until it succeeds; past `deadline` throws, with `describe`'s
    /// words (what did not answer, its log) and the last error.
    public static func waitUntilAnswering(
        deadline: ContinuousClock.Instant, describe: () -> String, ping: () async throws -> Void
    ) async throws {
        var lastError = "none"
        while ContinuousClock.now < deadline {
            do {
                try await ping()
                return
            } catch {
                lastError = "\(error)"
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw HarnessError("\(describe()) did not answer PING: \(lastError)")
    }
}
