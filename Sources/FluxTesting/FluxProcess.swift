public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `fluxforge` subprocess started by a test (a shard or an agent), with its output in a log
/// file the test can print on failure. Killed at the latest when released.
public final class FluxProcess: @unchecked Sendable {
    public let name: String
    public let logFile: URL
    private let arguments: [String]
    private let environment: [String: String]
    private let lock = NSLock()
    private var process: Process?

    /// Starts `fluxforge <arguments>` with extra environment variables.
    public init(name: String, arguments: [String], environment: [String: String] = [:], directory: URL) throws {
        self.name = name
        self.arguments = arguments
        self.environment = environment
        logFile = directory.appendingPathComponent("\(name).log")
        try start()
    }

    deinit { kill() }

    /// Path of the binary under test: `FLUXFORGE_BINARY` (set by cluster/test) or `.build/debug`.
    public static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FLUXFORGE_BINARY"], FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        let fallback = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/fluxforge")
        guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
            throw HarnessError("the fluxforge binary was not found: set FLUXFORGE_BINARY or run through cluster/test")
        }
        return fallback
    }

    /// Starts (again) with the same arguments; the log is appended to.
    public func start() throws {
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: logFile)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { self.process = process }
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }
    public var pid: Int32? { lock.withLock { process?.processIdentifier } }

    /// SIGKILL: the process gets no chance to clean up (a crash).
    public func kill() { signal(SIGKILL) }

    /// SIGTERM: graceful shutdown; waits up to `timeout`, then SIGKILL.
    public func terminate(timeout: Duration = .seconds(10)) async {
        signal(SIGTERM, wait: false)
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        kill()
    }

    private func signal(_ number: Int32, wait: Bool = true) {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, number)
        if wait {
            process.waitUntilExit()
            lock.withLock { self.process = nil }
        }
    }

    /// The last `lines` lines of the log, for failure messages.
    public func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A harness failure with a message a person can act on.
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
