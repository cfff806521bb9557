public import FluxAPI
public import FluxRedis

/// Tenant settings and credentials in `ff:{sN}:t:<tenant>:config`. Tokens are returned once at
/// creation and only their SHA-256 is stored, so reading Redis never reveals a credential.
public struct TenantStore: Sendable {
    public let redis: RedisClient
    public let slotCount: Int

    public init(redis: RedisClient, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    /// A tenant as stored: settings plus the token digests used to authenticate.
    public struct Stored: Sendable, Equatable {
        public var name: String
        public var settings: TenantSettings
        public var tokenSHA256: String
        public var agentTokenSHA256: String
    }

    /// Creates the tenant (new tokens) or updates its settings (tokens unchanged).
    public func put(_ tenant: String, settings: TenantSettings, nowMs: Int64) async throws -> TenantCreated {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let config = keys.tenantConfig(tenant)
        let created = try await redis.send(RedisCommand("HSETNX", config, "created_ms", String(nowMs))).int == 1
        var fields = Self.fields(settings)
        var token: String?
        var agentToken: String?
        if created {
            let apiToken = Tokens.generate(prefix: "fft_")
            let agent = Tokens.generate(prefix: "ffa_")
            fields += [("token_sha256", Tokens.sha256Hex(apiToken)), ("agent_token_sha256", Tokens.sha256Hex(agent))]
            token = apiToken
            agentToken = agent
        }
        var hset = RedisCommand("HSET", config)
        for (field, value) in fields { hset.append(field); hset.append(value) }
        _ = try await redis.pipeline([hset, RedisCommand("SADD", keys.tenants, tenant)])
        return TenantCreated(tenant: tenant, settings: settings, token: token, agentToken: agentToken)
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
         ("rateLimitPerSec", String(settings.rateLimitPerSec)), ("burst", String(settings.burst))]
    }

    static func stored(name: String, hash: [String: String]) -> Stored? {
        guard let token = hash["token_sha256"], let agent = hash["agent_token_sha256"] else { return nil }
        let defaults = TenantSettings()
        let settings = TenantSettings(
            maxQueued: hash["maxQueued"].flatMap(Int.init) ?? defaults.maxQueued,
            maxInFlight: hash["maxInFlight"].flatMap(Int.init) ?? defaults.maxInFlight,
            cpuBudget: hash["cpuBudget"].flatMap(Int.init) ?? defaults.cpuBudget,
            weight: hash["weight"].flatMap(Int.init) ?? defaults.weight,
            rateLimitPerSec: hash["rateLimitPerSec"].flatMap(Int.init) ?? defaults.rateLimitPerSec,
            burst: hash["burst"].flatMap(Int.init) ?? defaults.burst)
        return Stored(name: name, settings: settings, tokenSHA256: token, agentTokenSHA256: agent)
    }
}
