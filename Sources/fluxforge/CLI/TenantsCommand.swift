import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge tenants …`: the operator's view of tenants (admin token).
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "List, create, suspend, rotate and delete tenants (admin token).",
        subcommands: [TenantsListCommand.self, TenantsCreateCommand.self, TenantsActionCommand.self, TenantsDeleteCommand.self, TenantsAuditCommand.self])
}

struct TenantsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "Every tenant with its limits.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withSession { session in
            let list = try await session.api.decode(TenantList.self, .GET, "/v1/admin/tenants")
            try session.show(list) { list in
                guard !list.tenants.isEmpty else { return "no tenants" }
                return TextTable(headers: ["TENANT", "STATUS", "MAX QUEUED", "IN FLIGHT", "RATE/S", "BURST", "WEIGHT", "CREATED"], rows: list.tenants.map { tenant in
                    [tenant.tenant, tenant.deleting ? "DELETING" : tenant.suspended ? "SUSPENDED" : "active", String(tenant.settings.maxQueued),
                     String(tenant.settings.maxInFlight), String(tenant.settings.rateLimitPerSec), String(tenant.settings.burst),
                     String(tenant.settings.weight), clock(tenant.createdAtMs)]
                }).render { column, cell in column == 1 ? session.painter.state(cell) : cell }
            }
        }
    }
}

struct TenantsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a tenant (its tokens are shown once) or replace its settings.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tenant name.") var name: String
    @Option(help: "JSON file with the settings (defaults when left out).") var settings: String?

    func run() async throws {
        let body = try settings.map { path -> Data in
            guard let data = FileManager.default.contents(atPath: path) else { throw ClientConfigError("cannot read \(path)") }
            return data
        } ?? Data("{}".utf8)
        try await client.withSession { session in
            let answer = try await session.api.call(.PUT, "/v1/admin/tenants/\(name)", body: body)
            let created = try JSONDecoder().decode(TenantCreated.self, from: answer.body)
            try session.show(created) { created in
                guard let token = created.token else { return "\(created.tenant): settings updated" }
                return "\(created.tenant): created\napi token:   \(token)\nagent token: \(created.agentToken ?? "-")\n(shown once; keep them in files readable only by you)"
            }
        }
    }
}

struct TenantsActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "do", abstract: "suspend, resume, rotate-token or revoke-token for a tenant.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "suspend, resume, rotate-token or revoke-token.") var action: String
    @Argument(help: "Tenant name.") var name: String
    @Option(help: "With rotate-token: seconds the old token keeps working.") var graceSeconds: Int?

    func validate() throws {
        guard ["suspend", "resume", "rotate-token", "revoke-token"].contains(action) else {
            throw ValidationError("action must be suspend, resume, rotate-token or revoke-token")
        }
    }

    func run() async throws {
        try await client.withSession { session in
            let answer: APIResponse
            switch action {
            case "suspend", "resume": answer = try await session.api.call(.POST, "/v1/admin/tenants/\(name):\(action)")
            case "rotate-token":
                let body = try graceSeconds.map { try JSONEncoder().encode(["graceSeconds": $0]) }
                answer = try await session.api.call(.POST, "/v1/admin/tenants/\(name)/token:rotate", body: body)
            default: answer = try await session.api.call(.POST, "/v1/admin/tenants/\(name)/token:revoke")
            }
            let json = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
            switch session.output {
            case .json: print(String(decoding: answer.body, as: UTF8.self))
            case .table: print(json.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
            }
        }
    }
}

struct TenantsDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a tenant with no unfinished task, and every key it has.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tenant name.") var name: String

    func run() async throws {
        try await client.withSession { session in
            _ = try await session.api.call(.DELETE, "/v1/admin/tenants/\(name)")
            print("\(name): deletion started")
        }
    }
}

struct TenantsAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The newest admin actions, newest first.")
    @OptionGroup var client: ClientOptions
    @Option(help: "How many (1…1000).") var limit: Int = 50

    func run() async throws {
        try await client.withSession { session in
            let page = try await session.api.decode(AuditPage.self, .GET, "/v1/admin/audit?limit=\(limit)")
            try session.show(page) { page in
                TextTable(headers: ["TIME", "ACTION", "TENANT", "BY", "DETAIL"], rows: page.entries.map {
                    [clock($0.atMs), $0.action, $0.tenant, $0.by, $0.detail]
                }).render()
            }
        }
    }
}
