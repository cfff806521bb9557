public import FluxAPI
public import FluxRedis

/// Tenant settings and credentials in `ff:{sN}:t:<tenant>:config`. Tokens are returned once at
/// creation and only their SHA-256 is stored, so reading Redis never reveals a credential.
public struct TenantStore: Sendable {
    public let redis: any RedisBackend
    public let slotCount: Int

    public init(redis: any RedisBackend, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    /// A tenant as stored: settings plus the token digests used to authenticate.
    public struct Stored: Sendable, Equatable {
        public var name: String
        public var settings: TenantSettings
        /// Empty after a revocation: no API token is valid until the next rotation.
        public var tokenSHA256: String
        public var agentTokenSHA256: String
        /// The token replaced by the last rotation, valid until `previousTokenExpiresMs`.
        public var previousTokenSHA256: String = ""
        public var previousTokenExpiresMs: Int64 = 0
        /// Suspended tenants can read but not submit (`403 tenant_suspended`, at the door).
        public var suspended: Bool = false
        /// Being deleted: no token is valid, its keys are being removed.
        public var deleting: Bool = false
    }

    static let putScript = RedisScript(TenantScripts.put)

    /// A `put` for a tenant whose deletion has not finished yet (`409 tenant_deleting`).
    public struct BeingDeleted: Error, Sendable {
        public let tenant: String
    }

    /// Creates the tenant (new tokens) or updates its settings (tokens unchanged), atomically.
    public func put(_ tenant: String, settings: TenantSettings, nowMs: Int64) async throws -> TenantCreated {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let apiToken = Tokens.generate(prefix: "fft_")
        let agentToken = Tokens.generate(prefix: "ffa_")
        var arguments = [String(nowMs), tenant, Tokens.sha256Hex(apiToken), Tokens.sha256Hex(agentToken)]
        for (field, value) in Self.fields(settings) { arguments += [field, value] }
        let reply = try await redis.evaluate(Self.putScript, keys: [keys.tenantConfig(tenant), keys.tenants], arguments: arguments).int
        if reply == -1 { throw BeingDeleted(tenant: tenant) }
        let created = reply == 1
        return TenantCreated(tenant: tenant, settings: settings, token: created ? apiToken : nil, agentToken: created ? agentToken : nil)
    }

    /// The stored tenant, or nil if it was never created.
    public func get(_ tenant: String) async throws -> Stored? {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let hash = try await redis.hgetallStrings(keys.tenantConfig(tenant))
        return Self.stored(name: tenant, hash: hash)
    }

    /// Every tenant whose home is `slot` (used to rebuild the scheduler after a restart).
    public func tenants(inSlot slot: Int) async throws -> [Stored] {
        let keys = SlotKeys(slot: slot)
        let names = try await redis.send(RedisCommand("SMEMBERS", keys.tenants)).array?.compactMap(\.string) ?? []
        let replies = try await redis.pipeline(names.map { RedisCommand("HGETALL", keys.tenantConfig($0)) })
        return zip(names, replies).compactMap { Self.stored(name: $0, hash: TaskStore.stringHash($1)) }
    }

    static func fields(_ settings: TenantSettings) -> [(String, String)] {
        [("maxQueued", String(settings.maxQueued)), ("maxInFlight", String(settings.maxInFlight)),
         ("cpuBudget", String(settings.cpuBudget)), ("weight", String(settings.weight)),
         ("rateLimitPerSec", String(settings.rateLimitPerSec)), ("burst", String(settings.burst)),
         ("maxNodes", String(settings.maxNodes)), ("maxStoredBytes", String(settings.maxStoredBytes))]
    }

    static func stored(name: String, hash: [String: String]) -> Stored? {
        guard let token = hash["token_sha256"], let agent = hash["agent_token_sha256"] else { return nil }
        var stored = Stored(name: name, settings: settings(hash), tokenSHA256: token, agentTokenSHA256: agent)
        stored.previousTokenSHA256 = hash["prev_token_sha256"] ?? ""
        stored.previousTokenExpiresMs = hash["prev_token_expires_ms"].flatMap(Int64.init) ?? 0
        stored.suspended = hash["suspended"] == "1"
        stored.deleting = hash["deleting"] == "1"
        return stored
    }

    static func settings(_ hash: [String: String]) -> TenantSettings {
        let defaults = TenantSettings()
        let settings = TenantSettings(
            maxQueued: hash["maxQueued"].flatMap(Int.init) ?? defaults.maxQueued,
            maxInFlight: hash["maxInFlight"].flatMap(Int.init) ?? defaults.maxInFlight,
            cpuBudget: hash["cpuBudget"].flatMap(Int.init) ?? defaults.cpuBudget,
            weight: hash["weight"].flatMap(Int.init) ?? defaults.weight,
            rateLimitPerSec: hash["rateLimitPerSec"].flatMap(Int.init) ?? defaults.rateLimitPerSec,
            burst: hash["burst"].flatMap(Int.init) ?? defaults.burst,
            maxNodes: hash["maxNodes"].flatMap(Int.init) ?? defaults.maxNodes,
            maxStoredBytes: hash["maxStoredBytes"].flatMap(Int.init) ?? defaults.maxStoredBytes)
        return settings
    }
}
