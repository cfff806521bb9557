import FluxAPI
public import Hummingbird
import Synchronization
import Foundation

/// Checks bearer tokens against the SHA-256 digests stored per tenant. Shared by the shard and
/// the router (which authenticates the submissions it writes itself while a slot has no owner).
///
/// Policy (docs/api.md): no or malformed `Authorization` → 401. A token that is not the path
/// tenant's token → 403 `forbidden`, whether that tenant exists or not, so a token never learns
/// which other tenants exist. Tenant records are cached for `cacheTTL` to keep auth off Redis on
/// the hot path; a settings change is seen within that time.
public final class Authenticator: Sendable {
    private let tenants: TenantStore
    private let adminTokenSHA256: String
    private let cache = Mutex<[String: (stored: TenantStore.Stored, expiresAt: ContinuousClock.Instant)]>([:])
    private let cacheTTL: Duration = .seconds(2)

    public init(tenants: TenantStore, adminToken: String) {
        self.tenants = tenants
        self.adminTokenSHA256 = Tokens.sha256Hex(adminToken)
    }

    /// Returns the tenant's stored record when `request` carries that tenant's API token.
    public func tenant(_ tenant: String, request: Request) async throws -> TenantStore.Stored {
        let token = try Self.bearer(request)
        guard NameRules.isValidName(tenant), let stored = try await lookup(tenant), Self.accepts(token, stored)
        else { throw HTTPProblem.forbidden("token is not valid for tenant \(tenant)") }
        return stored
    }

    /// The current API token, or the one the last rotation replaced while its grace lasts.
    static func accepts(_ token: String, _ stored: TenantStore.Stored) -> Bool {
        let digest = Tokens.sha256Hex(token)
        if !stored.tokenSHA256.isEmpty, Tokens.constantTimeEquals(digest, stored.tokenSHA256) { return true }
        return !stored.previousTokenSHA256.isEmpty && WallClock.nowMs() < stored.previousTokenExpiresMs
            && Tokens.constantTimeEquals(digest, stored.previousTokenSHA256)
    }

    /// Verifies the tenant's agent token (dev-mode agent auth).
    public func agent(_ tenant: String, token: String) async throws -> TenantStore.Stored? {
        guard NameRules.isValidName(tenant), let stored = try await lookup(tenant),
              Tokens.constantTimeEquals(Tokens.sha256Hex(token), stored.agentTokenSHA256) else { return nil }
        return stored
    }

    /// The tenant's record for an agent whose certificate a router verified and attested
    /// (`AgentAttestation`); the tenant must exist and not be being deleted.
    public func attestedAgent(_ tenant: String, node: String, attestation: String, signer: TaskIDSigner, nowMs: Int64) async throws -> TenantStore.Stored? {
        guard NameRules.isValidName(tenant), NameRules.isValidName(node),
              try await AgentAttestation.verify(attestation, signer: signer, tenant: tenant, node: node, nowMs: nowMs),
              let stored = try await lookup(tenant), !stored.deleting
        else { return nil }
        return stored
    }

    /// The record of an existing tenant that is not being deleted (for an agent whose own
    /// certificate names it).
    public func record(_ tenant: String) async throws -> TenantStore.Stored? {
        guard NameRules.isValidName(tenant), let stored = try await lookup(tenant), !stored.deleting else { return nil }
        return stored
    }

    /// Throws unless `request` carries the admin token.
    public func admin(_ request: Request) throws {
        let token = try Self.bearer(request)
        guard Tokens.constantTimeEquals(Tokens.sha256Hex(token), adminTokenSHA256) else {
            throw HTTPProblem.forbidden("admin token required")
        }
    }

    /// Forgets a cached tenant (after the admin API changed it).
    public func invalidate(_ tenant: String) {
        _ = cache.withLock { $0.removeValue(forKey: tenant) }
    }

    private func lookup(_ tenant: String) async throws -> TenantStore.Stored? {
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[tenant] }), hit.expiresAt > now { return hit.stored }
        guard let stored = try await tenants.get(tenant) else { return nil }
        cache.withLock { $0[tenant] = (stored, now.advanced(by: cacheTTL)) }
        return stored
    }

    public static func bearer(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw HTTPProblem.unauthorized()
        }
        // Spaces and tabs around the token are dropped (by hand: Foundation's trimming showed
        // up at 1% of the router's CPU, issue 16).
        let rest = header.utf8.dropFirst("Bearer ".count)
        var start = rest.startIndex, end = rest.endIndex
        while start < end, rest[start] == 0x20 || rest[start] == 0x09 { start = rest.index(after: start) }
        while end > start, rest[rest.index(before: end)] == 0x20 || rest[rest.index(before: end)] == 0x09 { end = rest.index(before: end) }
        let token = String(Substring(rest[start..<end]))
        guard !token.isEmpty, token.utf8.count <= 256 else { throw HTTPProblem.unauthorized() }
        return token
    }
}
