import ArgumentParser
import FluxAgent
import FluxAPI
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The flags with which an agent obtains its certificate (docs/security.md#agent-identity),
/// shared by `fluxforge enroll` and `fluxforge agent --join`.
struct EnrollmentOptions: ParsableArguments {
    @Option(help: "Router base URL to enroll at: https://HOST:PORT (the CA is fetched and checked against --ca-hash before the token is sent), or http:// (dev: the token in the clear).")
    var join: String?
    @Option(help: "Join token from POST /v1/tenants/{t}/join-tokens; default $FLUXFORGE_JOIN_TOKEN (read once, then unset).")
    var joinToken: String?
    @Option(help: "The cluster CA's pin, sha256:<hex>, given with the join token: nothing else is trusted.")
    var caHash: String?
    @Option(help: "Directory for agent.key, agent.crt and ca.crt (created 0700, files 0600).")
    var stateDir: String?

    func validate() throws {
        guard let join else { return }
        guard join.hasPrefix("http://") || join.hasPrefix("https://"), URL(string: join)?.host != nil else {
            throw ValidationError("--join must be https://HOST:PORT (or http:// in dev)")
        }
        guard let caHash, caHash.hasPrefix("sha256:"), caHash.utf8.count == 71,
              caHash.utf8.dropFirst(7).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw ValidationError("--ca-hash sha256:<64 lowercase hex> is required with --join") }
        guard stateDir?.isEmpty == false else { throw ValidationError("--state-dir is required with --join") }
    }

    /// The join token, from the flag or (read once, then removed from the environment) `$FLUXFORGE_JOIN_TOKEN`.
    func resolvedJoinToken() throws -> String {
        if let joinToken, !joinToken.isEmpty { return joinToken }
        if let token = getenv("FLUXFORGE_JOIN_TOKEN").map({ String(cString: $0) }), !token.isEmpty {
            unsetenv("FLUXFORGE_JOIN_TOKEN")
            return token
        }
        throw ValidationError("a join token is required with --join: --join-token or FLUXFORGE_JOIN_TOKEN")
    }

    /// Enrolls unless the state directory already holds a valid identity for `tenant`/`node`.
    func ensureEnrolled(tenant: String, node: String, force: Bool = false, logger: Logger) async throws -> String {
        guard let join, let caHash, let stateDir else { throw ValidationError("--join, --ca-hash and --state-dir are needed to enroll") }
        let files = AgentEnrollment.Files(directory: URL(fileURLWithPath: stateDir))
        if !force, let identity = AgentEnrollment.stored(in: files, tenant: tenant, node: node, now: Date()) {
            return "already enrolled as \(identity.uri) (\(files.certificate.path)); --force enrolls again"
        }
        if join.hasPrefix("http://") {
            logger.warning("enrolling over plain HTTP: the join token crosses the network in the clear (serve the router's API with --tls-cert for https://)")
        }
        let issued = try await AgentEnrollment.enroll(
            joinURL: join, token: try resolvedJoinToken(), caHash: caHash, tenant: tenant, node: node, files: files, logger: logger)
        let notAfter = Date(timeIntervalSince1970: TimeInterval(issued.notAfterMs) / 1_000)
        return """
            enrolled    \(issued.spiffeID)
            serial      \(issued.serial)
            valid until \(notAfter.ISO8601Format())
            stored in   \(files.directory.path) (agent.key, agent.crt, ca.crt)
            """
    }
}

/// `fluxforge enroll`: obtains an agent's certificate and exits (to prepare a device, or to
/// check a join token); `fluxforge agent --join` does the same at its first start.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Obtain an agent certificate with a join token, store it, and exit.")

    @Option(help: "Tenant the node belongs to.")
    var tenant: String
    @Option(help: "Node name to enroll as (the join token's pattern must allow it).")
    var node: String
    @OptionGroup var enrollment: EnrollmentOptions
    @Flag(help: "Enroll again even when the state directory holds a valid certificate.")
    var force = false

    func validate() throws {
        guard NameRules.isValidName(tenant), NameRules.isValidName(node) else { throw ValidationError("--tenant and --node must match [a-z0-9-]{1,63}") }
        guard enrollment.join != nil else { throw ValidationError("--join is required") }
    }

    func run() async throws {
        print(try await enrollment.ensureEnrolled(tenant: tenant, node: node, force: force, logger: Logger(label: "fluxforge.enroll")))
    }
}
