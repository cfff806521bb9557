import ArgumentParser
import Foundation

/// Where a load generator finds a running cluster: the router's API and agent endpoints, and
/// the admin token (shared by `bench load` and `bench noisy`).
struct RouterEndpoint: ParsableArguments {
    @Option(help: "Router API base URL.")
    var api = "http://127.0.0.1:7300"

    @Option(help: "Router agent endpoint.")
    var agentURL = "ws://127.0.0.1:7301/v1/agent/connect"

    @Option(help: "Admin token (or FLUXFORGE_ADMIN_TOKEN).")
    var adminToken: String?

    var resolvedAdminToken: String? { adminToken ?? ProcessInfo.processInfo.environment["FLUXFORGE_ADMIN_TOKEN"] }

    func validate() throws {
        guard resolvedAdminToken != nil else { throw ValidationError("an admin token is required: --admin-token or FLUXFORGE_ADMIN_TOKEN") }
    }
}
