public import Hummingbird
import FluxAPI
import FluxRedis
import Foundation

/// `/v1/admin/tenants` (list), `…/{tenant}:suspend|:resume`, `…/{tenant}/token:rotate|token:revoke`,
/// `DELETE …/{tenant}`, `/v1/admin/audit` and `DELETE /v1/admin/certificates/{serial}`, with the admin token. Served alike by shards and routers: each is one
/// Redis write (`TenantAdmin`), no slot owner needed.
public struct TenantAdminRoutes: Sendable {
    let admin: TenantAdmin
    let auth: Authenticator
    let nowMs: @Sendable () -> Int64

    public init(admin: TenantAdmin, auth: Authenticator, nowMs: @escaping @Sendable () -> Int64) {
        self.admin = admin
        self.auth = auth
        self.nowMs = nowMs
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("v1/admin/tenants") { request, _ in try await list(request) }
        router.post("v1/admin/tenants/{tenant}") { request, context in try await suspension(request, context) }
        router.post("v1/admin/tenants/{tenant}/{action}") { request, context in try await token(request, context) }
        router.get("v1/admin/audit") { request, _ in try await audit(request) }
        router.delete("v1/admin/tenants/{tenant}") { request, context in try await delete(request, context) }
        router.delete("v1/admin/certificates/{serial}") { request, context in try await revokeCertificate(request, context) }
    }

    /// Revokes an agent certificate by serial (for one found in a log or an audit entry). The
    /// serial's not-after is not known here, so the revocation is kept for the longest agent
    /// certificate lifetime (8,760 h).
    private func revokeCertificate(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try auth.admin(request)
        let serial = try context.parameters.require("serial").lowercased()
        guard CertificateRevocations.isSerial(serial) else {
            throw HTTPProblem(badRequest: .invalid("serial", "must be 2…40 hex digits, an even count"))
        }
        let now = nowMs()
        try await HTTPProblem.mappingStoreErrors {
            try await CertificateRevocations(redis: admin.tenants.redis).revoke(serial: serial, notAfterMs: now + 8_760 * 3_600_000, nowMs: now)
            try await admin.audit("certificate_revoked", tenant: "", detail: "serial \(serial)", nowMs: now)
        }
        return try JSONBody.response(["serial": serial, "revokedAtMs": String(now)])
    }

    /// Starts deleting a tenant: `202` (its slot's owner removes its keys within seconds),
    /// `409 tenant_busy` while it has unfinished tasks, `404` when unknown.
    private func delete(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try auth.admin(request)
        let tenant = try context.parameters.require("tenant")
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw HTTPProblem(badRequest: error) }
        defer { auth.invalidate(tenant) }
        switch try await HTTPProblem.mappingStoreErrors({ try await admin.beginDeletion(tenant, nowMs: nowMs()) }) {
        case .started:
            return try JSONBody.response(["tenant": tenant, "deleting": "true"], status: .accepted)
        case .unknownTenant:
            throw HTTPProblem.notFound("tenant \(tenant)")
        case .busy(let unfinished):
            throw HTTPProblem(.conflict, code: "tenant_busy",
                message: "tenant \(tenant) has \(unfinished) unfinished tasks: suspend it, cancel them or let them end, then delete it")
        }
    }

    private func list(_ request: Request) async throws -> Response {
        try auth.admin(request)
        return try JSONBody.response(TenantList(tenants: try await HTTPProblem.mappingStoreErrors { try await admin.list() }))
    }

    private func suspension(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try auth.admin(request)
        let (tenant, verb) = try Self.split(try context.parameters.require("tenant"))
        guard verb == "suspend" || verb == "resume" else { throw Self.noRoute }
        guard try await HTTPProblem.mappingStoreErrors({ try await admin.setSuspended(tenant, verb == "suspend", nowMs: nowMs()) }) else {
            throw HTTPProblem.notFound("tenant \(tenant)")
        }
        auth.invalidate(tenant)
        return try JSONBody.response(["tenant": tenant, "suspended": verb == "suspend" ? "true" : "false"])
    }

    private func token(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try auth.admin(request)
        let tenant = try context.parameters.require("tenant")
        guard NameRules.isValidName(tenant) else { throw HTTPProblem(badRequest: .invalid("tenant", "must match [a-z0-9-]{1,63}")) }
        defer { auth.invalidate(tenant) }
        switch try context.parameters.require("action") {
        case "token:rotate":
            var request = request
            let buffer = try await JSONBody.collect(&request, limit: 1_024)
            // The body is optional: none means the default grace.
            let body = buffer.readableBytes == 0 ? TokenRotation() : try JSONDecoder().decode(TokenRotation.self, from: Data(buffer: buffer))
            do { try body.validate() } catch { throw HTTPProblem(badRequest: error) }
            guard let rotated = try await HTTPProblem.mappingStoreErrors({ try await admin.rotate(tenant, graceSeconds: body.graceSeconds, nowMs: nowMs()) }) else {
                throw HTTPProblem.notFound("tenant \(tenant)")
            }
            return try JSONBody.response(rotated)
        case "token:revoke":
            guard try await HTTPProblem.mappingStoreErrors({ try await admin.revoke(tenant, nowMs: nowMs()) }) else { throw HTTPProblem.notFound("tenant \(tenant)") }
            return try JSONBody.response(["tenant": tenant, "revoked": "true"])
        default:
            throw Self.noRoute
        }
    }

    private func audit(_ request: Request) async throws -> Response {
        try auth.admin(request)
        let text = request.uri.queryParameters["limit"].map(String.init) ?? "100"
        guard let limit = Int(text), (1...1_000).contains(limit) else {
            throw HTTPProblem(badRequest: .invalid("limit", "must be an integer within 1…1000"))
        }
        return try JSONBody.response(AuditPage(entries: try await HTTPProblem.mappingStoreErrors { try await admin.auditEntries(limit: limit) }))
    }

    static let noRoute = HTTPProblem(.notFound, code: "route_not_found", message: "no such endpoint")

    /// `name:verb` → (name, verb); 404 unless the name is valid and a verb is there.
    static func split(_ target: String) throws -> (String, String) {
        guard let colon = target.firstIndex(of: ":"), NameRules.isValidName(target[..<colon]) else { throw noRoute }
        return (String(target[..<colon]), String(target[target.index(after: colon)...]))
    }
}
