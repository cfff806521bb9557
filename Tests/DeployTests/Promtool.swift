import FluxTesting
import Foundation

/// `promtool` (Debian's `prometheus` package) run as a subprocess in deploy/prometheus.
enum Promtool {
    static let directory = Repository.deploy.appendingPathComponent("prometheus")

    /// Runs `promtool <arguments>`; its exit status and its output (stdout and stderr).
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let executable = try PrometheusServerProcess.executable("promtool")
        return try await offThePool { try combinedOutput(of: executable, arguments, in: directory) }
    }
}
