import FluxAPI
import FluxIdentity
import FluxRuntime
import Foundation
import Hummingbird
import X509

/// Agent enrollment (issue 12, docs/security.md#agent-identity): join tokens, and the exchange
/// of a join token and a CSR for a certificate that names the agent's tenant and node. The
/// shard that owns the tenant's slot signs, with the cluster CA it was given (`--ca`).
struct EnrollmentRoutes: Sendable {
    let services: ShardServices

    var store: JoinTokenStore { JoinTokenStore(redis: services.redis, slotCount: services.configuration.slotCount) }

    func register(on router: Router<BasicRequestContext>) {
        let group = router.group("v1/tenants/{tenant}")
        group.post("join-tokens") { request, context in try await create(request, context) }
        group.get("join-tokens") { request, context in try await list(request, context) }
        group.delete("join-tokens/{id}") { request, context in try await revoke(request, context) }
        group.post("nodes/{node}/enroll") { request, context in try await enroll(request, context) }
        group.delete("nodes/{node}/certificate") { request, context in try await revoke(node: request, context) }
        router.get("v1/cluster/ca") { _, _ in
            let ca = try requireCA()
            return try JSONBody.response(ClusterCAView(
                certificate: try ca.certificate.serializeAsPEM().pemString, caHash: ca.pin, trustDomain: services.configuration.trustDomain))
        }
    }

    private func requireCA() throws -> ClusterCA {
        guard let ca = services.ca else {
            throw HTTPProblem.unavailable("enrollment_disabled", "this cluster signs no agent certificates: its shards run without --ca")
        }
        return ca
    }

    /// The tenant's own token or the admin token; the tenant must exist and be served here.
    private func authorize(_ request: Request, _ context: BasicRequestContext) async throws -> String {
        let tenant = try context.parameters.require("tenant")
        if (try? services.auth.admin(request)) != nil {
            guard NameRules.isValidName(tenant), try await services.redisCall({ try await services.tenants.get(tenant) }) != nil else {
                throw HTTPProblem.notFound("tenant \(tenant.prefix(64))")
            }
        } else {
            _ = try await services.redisCall { try await services.auth.tenant(tenant, request: request) }
        }
        try await services.requireOwner(of: tenant)
        return tenant
    }

    private func create(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        let ca = try requireCA()
        let body = try await JSONBody.decode(JoinTokenRequest.self, from: request, limit: 4 * 1_024)
        do { try body.validate() } catch { throw HTTPProblem(badRequest: error) }
        let nowMs = services.nowMs()
        guard let created = try await services.redisCall({ try await store.create(tenant: tenant, request: body, nowMs: nowMs) }) else {
            throw HTTPProblem.conflict("join_token_limit", "tenant \(tenant) already has \(JoinTokenStore.maxLiveTokens) live join tokens; revoke some or let them expire")
        }
        try await services.redisCall {
            try await services.tenantAdmin.audit("join_token_created", tenant: tenant,
                detail: "id \(created.id), \(body.maxUses) uses, nodes \(body.nodePattern), \(body.ttlSeconds) s", nowMs: nowMs)
        }
        return try JSONBody.response(JoinTokenCreated(
            tenant: tenant, token: created.token, id: created.id, expiresAtMs: created.expiresAtMs,
            maxUses: body.maxUses, nodePattern: body.nodePattern, caHash: ca.pin), status: .created)
    }

    private func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        return try JSONBody.response(JoinTokenList(tokens: try await services.redisCall { try await store.list(tenant: tenant) }))
    }

    private func revoke(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        let id = try context.parameters.require("id")
        guard id.utf8.count == 16, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              try await services.redisCall({ try await store.revoke(tenant: tenant, id: id) })
        else { throw HTTPProblem.notFound("join token \(id.prefix(64))") }
        try await services.redisCall {
            try await services.tenantAdmin.audit("join_token_revoked", tenant: tenant, detail: "id \(id)", nowMs: services.nowMs())
        }
        return Response(status: .noContent)
    }

    /// Checks everything that costs nothing first (names, the CSR and its signature), so a bad
    /// request never spends a use of the token; then spends one atomically and signs.
    private func enroll(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try context.parameters.require("tenant"), node = try context.parameters.require("node")
        do {
            try NameRules.validate(tenant, field: "tenant")
            try NameRules.validate(node, field: "node")
        } catch { throw HTTPProblem(badRequest: error) }
        let token = try Authenticator.bearer(request)
        try services.requireWritable()
        _ = try requireCA()
        try await services.requireOwner(of: tenant)
        let body = try await JSONBody.decode(EnrollmentRequest.self, from: request, limit: 16 * 1_024)
        do { try body.validate() } catch { throw HTTPProblem(badRequest: error) }
        // Signed before the token is spent: a CSR the CA refuses costs the agent nothing.
        let issuer = AgentCertificateIssuer(services: services)
        let signed: AgentCertificateIssuer.Signed
        do { signed = try issuer.sign(csrPEM: body.csr, tenant: tenant, node: node) } catch {
            throw HTTPProblem(.badRequest, code: "csr_invalid", message: error.description, field: "csr")
        }
        guard let stored = try await services.redisCall({ try await services.tenants.get(tenant) }), !stored.deleting else {
            throw Self.refused("join_token_invalid", "the join token is not valid for tenant \(tenant) (unknown, expired, revoked, or another tenant's)")
        }
        switch try await services.redisCall({ try await store.redeem(tenant: tenant, token: token, node: node) }) {
        case .accepted:
            break
        case .invalid:
            throw Self.refused("join_token_invalid", "the join token is not valid for tenant \(tenant) (unknown, expired, revoked, or another tenant's)")
        case .usedUp:
            throw Self.refused("join_token_used_up", "the join token has no uses left; ask for a new one")
        case .nodeNotAllowed(let pattern):
            throw Self.refused("node_not_allowed", "the join token lets agents enroll as nodes matching \(pattern), not \(node)")
        }
        let issued = try await services.redisCall { try await issuer.record(signed, action: "node_enrolled") }
        context.logger.info("agent enrolled", metadata: ["tenant": "\(tenant)", "node": "\(node)", "serial": "\(issued.serial)"])
        return try JSONBody.response(issued, status: .created)
    }

    /// Revokes the certificate last issued to a node: every router refuses it from then on and
    /// closes its live session within its poll interval (docs/security.md).
    private func revoke(node request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        let node = try context.parameters.require("node")
        guard NameRules.isValidName(node),
              let issued = try await services.redisCall({ try await store.certificate(tenant: tenant, node: node) })
        else { throw HTTPProblem.notFound("certificate of node \(node.prefix(64))") }
        let nowMs = services.nowMs()
        try await services.redisCall {
            try await CertificateRevocations(redis: services.redis).revoke(serial: issued.serial, notAfterMs: issued.notAfterMs, nowMs: nowMs)
            try await services.tenantAdmin.audit("certificate_revoked", tenant: tenant, detail: "node \(node), serial \(issued.serial)", nowMs: nowMs)
        }
        return try JSONBody.response(["tenant": tenant, "node": node, "serial": issued.serial, "revokedAtMs": String(nowMs)])
    }

    private static func refused(_ code: String, _ message: String) -> HTTPProblem {
        HTTPProblem(.forbidden, code: code, message: message)
    }
}
