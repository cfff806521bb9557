import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge join-tokens …`: the tokens agents enroll with (docs/security.md, issue 12).
struct JoinTokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join-tokens", abstract: "Create, list and revoke the join tokens agents enroll with.",
        subcommands: [JoinTokensCreateCommand.self, JoinTokensListCommand.self, JoinTokensRevokeCommand.self])
}

struct JoinTokensCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "A join token (shown once) and the CA pin agents check before using it.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Enrollments it allows.") var maxUses: Int = 1
    @Option(help: "Seconds it stays valid.") var ttlSeconds: Int = 3_600
    @Option(help: "Node names it may enroll: *, a name, or a prefix followed by *.") var nodePattern: String = "*"

    func run() async throws {
        try await client.withSession { session in
            let request = JoinTokenRequest(ttlSeconds: ttlSeconds, maxUses: maxUses, nodePattern: nodePattern)
            let created = try await session.api.decode(JoinTokenCreated.self, .POST, try session.tenantPath("/join-tokens"), json: request)
            try session.show(created) { created in
                [
                    "token:     \(created.token)   (shown once)", "id:        \(created.id)",
                    "uses:      \(created.maxUses), nodes \(created.nodePattern), until \(clock(created.expiresAtMs))",
                    "ca pin:    \(created.caHash)",
                    "enroll:    FLUXFORGE_JOIN_TOKEN=<token> fluxforge agent --join \(session.target.url) --ca-hash \(created.caHash) --tenant \(created.tenant) --node <name> …",
                ].joined(separator: "\n")
            }
        }
    }
}

struct JoinTokensListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "Live join tokens (ids and uses left; never the tokens).")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withSession { session in
            let list = try await session.api.decode(JoinTokenList.self, .GET, try session.tenantPath("/join-tokens"))
            try session.show(list) { list in
                guard !list.tokens.isEmpty else { return "no live join tokens" }
                return TextTable(headers: ["ID", "USES LEFT", "NODES", "CREATED", "EXPIRES"], rows: list.tokens.map {
                    [$0.id, String($0.usesLeft), $0.nodePattern, clock($0.createdAtMs), clock($0.expiresAtMs)]
                }).render()
            }
        }
    }
}

struct JoinTokensRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a join token by id (certificates already issued with it stay valid).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Token id (from `join-tokens ls`).") var id: String

    func run() async throws {
        try await client.withSession { session in
            _ = try await session.api.call(.DELETE, try session.tenantPath("/join-tokens/\(id)"))
            print("\(id): revoked")
        }
    }
}

/// `fluxforge certificates revoke …`: an agent's certificate, by node (tenant or admin token)
/// or by serial (admin token); routers close its session within their poll interval.
struct CertificatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificates", abstract: "Revoke agent certificates.", subcommands: [CertificatesRevokeCommand.self])
}

struct CertificatesRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke the certificate last issued to --node (of the tenant), or one by --serial (admin).")
    @OptionGroup var client: ClientOptions
    @Option(help: "The node whose last certificate to revoke.") var node: String?
    @Option(help: "A certificate serial (hex), with the admin token.") var serial: String?

    func validate() throws {
        guard (node == nil) != (serial == nil) else { throw ValidationError("give exactly one of --node and --serial") }
    }

    func run() async throws {
        try await client.withSession { session in
            let path = try node.map { try session.tenantPath("/nodes/\($0)/certificate") } ?? "/v1/admin/certificates/\(serial ?? "")"
            let answer = try await session.api.call(.DELETE, path)
            let fields = (try? JSONDecoder().decode([String: String].self, from: answer.body)) ?? [:]
            switch session.output {
            case .json: print(String(decoding: answer.body, as: UTF8.self))
            case .table: print(fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
            }
        }
    }
}
