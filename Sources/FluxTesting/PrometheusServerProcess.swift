public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private `prometheus` server for tests (Debian's `prometheus` package): it reads the
/// configuration the test writes, keeps its TSDB in a fresh temporary directory and listens on a
/// free port of 127.0.0.1 only. Killed and cleaned up by `stop()` or, at the latest, when released.
public final class PrometheusServerProcess: @unchecked Sendable {
    public let port: Int
    /// Holds `prometheus.yml`, the TSDB (`data/`) and the server's log.
    public let directory: URL
    private let lock = NSLock()
    private var process: Process?

    /// Writes `configuration` (a prometheus.yml) into a fresh directory, starts the server on it
    /// and waits (at most `startTimeout`) until `/-/ready` answers 200.
    public init(configuration: String, startTimeout: Duration = .seconds(30)) async throws {
        port = try RedisServerProcess.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-prometheus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configurationFile = directory.appendingPathComponent("prometheus.yml")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = try Self.executable("prometheus")
        process.arguments = [
            "--config.file=\(configurationFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=info",
        ]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { self.process = process }
        try await waitUntilReady(timeout: startTimeout)
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Kills the server (SIGKILL: its data is thrown away anyway), waits for it, removes its files.
    /// Safe to call more than once.
    public func stop() {
        let process = lock.withLock { () -> Process? in
            defer { self.process = nil }
            return self.process
        }
        if let process {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The last `lines` lines of the server's log, for failure messages.
    public func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// `name` (`prometheus`, `promtool`) on PATH or in the usual system directories; fails with
    /// what to install, never skips.
    public static func executable(_ name: String) throws -> URL {
        do {
            return try RedisServerProcess.findExecutable(name)
        } catch {
            throw HarnessError("\(name) not found on PATH: install Debian's `prometheus` package (cluster/test does, through FF_APT_PACKAGES)")
        }
    }

    private func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = try? await httpRequest("GET", baseURL + "/-/ready"), answer.status == 200 { return }
            guard lock.withLock({ process?.isRunning }) == true else { throw HarnessError("prometheus exited:\n\(logTail())") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("prometheus not ready within \(timeout):\n\(logTail())")
    }
}
