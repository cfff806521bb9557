public import FluxAPI
public import FluxRedis
import Foundation

/// Join tokens (issue 12): short-lived secrets with which an agent obtains its certificate.
/// Redis keeps only each token's SHA-256 with its uses left and node pattern, in the tenant's
/// slot, expiring with the token; a use is spent by one script, so uses never go below zero
/// whatever races (docs/security.md, docs/redis-schema.md).
public struct JoinTokenStore: Sendable {
    let redis: any RedisBackend
    let slotCount: Int

    /// Live join tokens per tenant: enough for any rollout, and a cap on what a tenant can store.
    public static let maxLiveTokens = 1_000
    static let redeemScript = RedisScript(JoinTokenScripts.redeem)
    static let prefix = "ffj_"

    public init(redis: any RedisBackend, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    func keys(_ tenant: String) -> SlotKeys { SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount)) }

    /// The id of a token: the first 16 hex digits of its SHA-256, so the key of a presented
    /// token is found without a scan and listings can name tokens without revealing them.
    static func id(ofDigest digest: String) -> String { String(digest.prefix(16)) }

    /// Stores a new token; nil when the tenant already has `maxLiveTokens` live ones.
    public func create(tenant: String, request: JoinTokenRequest, nowMs: Int64) async throws -> (token: String, id: String, expiresAtMs: Int64)? {
        let keys = keys(tenant)
        if try await redis.send(RedisCommand("SCARD", keys.tenantJoinTokens(tenant))).int ?? 0 >= Int64(Self.maxLiveTokens) {
            _ = try await list(tenant: tenant)  // prunes expired members
            if try await redis.send(RedisCommand("SCARD", keys.tenantJoinTokens(tenant))).int ?? 0 >= Int64(Self.maxLiveTokens) { return nil }
        }
        let token = Tokens.generate(prefix: Self.prefix)
        let digest = Tokens.sha256Hex(token)
        let id = Self.id(ofDigest: digest)
        let expiresAtMs = nowMs + Int64(request.ttlSeconds) * 1_000
        _ = try await redis.pipeline([
            RedisCommand("HSET", keys.joinToken(tenant, id), "sha256", digest, "uses", String(request.maxUses),
                "pattern", request.nodePattern, "created_ms", String(nowMs), "expires_ms", String(expiresAtMs)),
            RedisCommand("PEXPIREAT", keys.joinToken(tenant, id), String(expiresAtMs)),
            RedisCommand("SADD", keys.tenantJoinTokens(tenant), id),
        ])
        return (token, id, expiresAtMs)
    }

    /// What spending a token's use came to.
    public enum Redemption: Sendable, Hashable {
        case accepted(usesLeft: Int)
        /// Unknown, expired, revoked, or another tenant's.
        case invalid
        case usedUp
        case nodeNotAllowed(pattern: String)
    }

    /// Spends one use of `token` for `node` of `tenant`, if the token allows it.
    public func redeem(tenant: String, token: String, node: String) async throws -> Redemption {
        guard token.hasPrefix(Self.prefix), token.utf8.count == Self.prefix.utf8.count + 64,
              token.utf8.dropFirst(Self.prefix.utf8.count).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return .invalid }
        let digest = Tokens.sha256Hex(token)
        let reply = try await redis.evaluate(
            Self.redeemScript, keys: [keys(tenant).joinToken(tenant, Self.id(ofDigest: digest))], arguments: [digest, node])
        let parts = reply.array?.compactMap(\.string) ?? []
        switch parts.first {
        case "ok": return .accepted(usesLeft: Int(parts.last ?? "") ?? 0)
        case "used_up": return .usedUp
        case "node_not_allowed": return .nodeNotAllowed(pattern: parts.last ?? "")
        default: return .invalid
        }
    }

    /// The tenant's live tokens, oldest first; forgets the ids of tokens that expired.
    public func list(tenant: String) async throws -> [JoinTokenSummary] {
        let keys = keys(tenant)
        let ids = try await redis.send(RedisCommand("SMEMBERS", keys.tenantJoinTokens(tenant))).array?.compactMap(\.string) ?? []
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map {
            RedisCommand("HMGET", keys.joinToken(tenant, $0), "uses", "pattern", "created_ms", "expires_ms")
        })
        var live: [JoinTokenSummary] = []
        var gone: [String] = []
        for (id, reply) in zip(ids, replies) {
            let fields = reply.array?.map(\.string) ?? []
            guard fields.count == 4, let uses = fields[0].flatMap({ Int($0) }), let pattern = fields[1],
                  let created = fields[2].flatMap({ Int64($0) }), let expires = fields[3].flatMap({ Int64($0) })
            else { gone.append(id); continue }
            live.append(JoinTokenSummary(id: id, usesLeft: uses, nodePattern: pattern, createdAtMs: created, expiresAtMs: expires))
        }
        if !gone.isEmpty { _ = try await redis.send(RedisCommand("SREM", arguments: [keys.tenantJoinTokens(tenant)] + gone)) }
        return live.sorted { ($0.createdAtMs, $0.id) < ($1.createdAtMs, $1.id) }
    }

    /// Revokes a token by id; false when no live token has that id.
    public func revoke(tenant: String, id: String) async throws -> Bool {
        let keys = keys(tenant)
        let replies = try await redis.pipeline([
            RedisCommand("DEL", keys.joinToken(tenant, id)), RedisCommand("SREM", keys.tenantJoinTokens(tenant), id),
        ])
        return replies.first?.int == 1
    }

    /// The serial and not-after of the certificate last issued to a node, if any.
    public func certificate(tenant: String, node: String) async throws -> (serial: String, notAfterMs: Int64)? {
        guard let text = try await redis.send(RedisCommand("HGET", keys(tenant).tenantCertificates(tenant), node)).string,
              let record = try? JSONDecoder().decode(IssuedCertificate.self, from: Data(text.utf8))
        else { return nil }
        return (record.serial, record.notAfterMs)
    }

    struct IssuedCertificate: Codable {
        var serial: String
        var notAfterMs: Int64
    }

    /// Records the certificate last issued to a node (what revocation will name).
    public func recordCertificate(tenant: String, node: String, serial: String, notAfterMs: Int64, nowMs: Int64) async throws {
        let record = #"{"serial":"\#(serial)","notAfterMs":\#(notAfterMs),"issuedAtMs":\#(nowMs)}"#
        _ = try await redis.send(RedisCommand("HSET", keys(tenant).tenantCertificates(tenant), node, record))
    }
}
