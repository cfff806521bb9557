import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge login`: checks a URL and token against the API, then saves them as a profile
/// (the token stays in its file; the config holds only the file's path).
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Save a profile (URL, tenant, token file, CA) after checking it against the API.")

    @Option(help: "The router's API URL, e.g. https://127.0.0.1:7300.") var url: String
    @Option(help: "The tenant (leave out for an admin profile).") var tenant: String?
    @Option(help: "File holding the tenant's API token (or the admin token).") var tokenFile: String
    @Option(help: "PEM CA certificates to trust for https (the cluster CA).") var caFile: String?
    @Option(help: "Profile name.") var profile: String = "default"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let path = ClientConfig.path(environment: environment)
        var config: ClientConfig
        do { config = try ClientConfig.load(from: path) } catch { CLISession.fail(error) }
        let entry = ClientProfile(
            url: url, tenant: tenant, tokenFile: (tokenFile as NSString).expandingTildeInPath,
            caFile: caFile.map { ($0 as NSString).expandingTildeInPath })
        // Checked with exactly what later commands will use: the saved profile, no overrides.
        let options = try ClientOptions.parse(["--url", entry.url, "--token-file", entry.tokenFile] + (entry.caFile.map { ["--ca-file", $0] } ?? [])
            + (tenant.map { ["--tenant", $0] } ?? []))
        try await options.withSession { session in
            if let tenant {
                _ = try await session.api.decode(TaskPage.self, .GET, "/v1/tenants/\(tenant)/tasks?limit=1")
            } else {
                _ = try await session.api.decode(ClusterView.self, .GET, "/v1/admin/cluster")
            }
        }
        config.profiles[profile] = entry
        config.current = profile
        do { try config.save(to: path) } catch { CLISession.fail(error) }
        print("logged in to \(url) as \(tenant.map { "tenant \($0)" } ?? "admin"); profile \"\(profile)\" saved in \(path)")
    }
}
