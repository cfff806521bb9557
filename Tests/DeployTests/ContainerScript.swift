import FluxTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A manifest container's `command` (an `sh -c` script: the Redis manifests' init containers and
/// the cluster's create Job) run on this machine, with the environment a test builds for it
/// (`KubernetesVariables.resolve`) and the same tools (`redis-cli`, `getent`, `awk`, `timeout`
/// from Debian instead of the `redis:7` image). Killed when it overruns `timeout`.
struct ContainerScript {
    let argv: [String]
    let environment: [String: String]

    /// Exit status and stdout with stderr, written to a file in `directory` (the script's own
    /// children may outlive a kill, and a pipe would wait for them).
    func run(in directory: URL, name: String, timeout: Duration) async throws -> (status: Int32, output: String) {
        let log = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { own, _ in own }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let overran = process.isRunning
        if overran { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if overran { throw HarnessError("\(name) did not finish within \(timeout):\n\(output)") }
        return (process.terminationStatus, output)
    }
}
