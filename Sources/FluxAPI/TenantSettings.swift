/// The body of `PUT /v1/admin/tenants/{tenant}`: a tenant's limits.
public struct TenantSettings: Codable, Sendable, Hashable {
    /// Most tasks the tenant may have outstanding at once: waiting, backing off, deferred or in
    /// flight (the scheduler's hard quota; a retry does not change the total).
    public var maxQueued: Int
    /// Most tasks the tenant may have dispatched or running at once.
    public var maxInFlight: Int
    /// CPU units the tenant's waiting plus in-flight tasks may hold in all (see scheduler docs).
    public var cpuBudget: Int
    /// Share of dispatch turns when tenants compete (weighted fairness).
    public var weight: Int
    /// Sustained submissions per second the tenant may make (a batch of n counts n), enforced at
    /// the door: beyond it a submission is `429 rate_limited` and nothing is written.
    public var rateLimitPerSec: Int
    /// Submissions the tenant may make at once above the sustained rate (the bucket's depth).
    public var burst: Int
    /// Agent sessions the tenant may hold at once on one shard; one more `hello` is refused
    /// (`too_many_nodes`), so an agent token cannot conjure unbounded nodes.
    public var maxNodes: Int
    /// Bytes the tenant's task records may hold in Redis, unfinished ones and finished ones until
    /// they expire (an estimate made at the door: the submitted fields, a fixed overhead and the
    /// output tail); beyond it a submission is `429 storage_exceeded` and nothing is written. It
    /// keeps one tenant from filling the Redis every tenant shares.
    public var maxStoredBytes: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxQueued, maxInFlight, cpuBudget, weight, rateLimitPerSec, burst, maxNodes, maxStoredBytes
    }

    /// The range `maxStoredBytes` may take: 1 MiB … 1 TiB.
    public static let storedBytesRange = 1 << 20 ... 1 << 40

    public init(
        maxQueued: Int = 10_000, maxInFlight: Int = 1_000, cpuBudget: Int = 10_000, weight: Int = 1,
        rateLimitPerSec: Int = 2_000, burst: Int = 10_000, maxNodes: Int = 10_000, maxStoredBytes: Int = 512 << 20
    ) {
        self.maxQueued = maxQueued
        self.maxInFlight = maxInFlight
        self.cpuBudget = cpuBudget
        self.weight = weight
        self.rateLimitPerSec = rateLimitPerSec
        self.burst = burst
        self.maxNodes = maxNodes
        self.maxStoredBytes = maxStoredBytes
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TenantSettings()
        maxQueued = try c.decodeIntegerIfPresent(Int.self, forKey: .maxQueued) ?? d.maxQueued
        maxInFlight = try c.decodeIntegerIfPresent(Int.self, forKey: .maxInFlight) ?? d.maxInFlight
        cpuBudget = try c.decodeIntegerIfPresent(Int.self, forKey: .cpuBudget) ?? d.cpuBudget
        weight = try c.decodeIntegerIfPresent(Int.self, forKey: .weight) ?? d.weight
        rateLimitPerSec = try c.decodeIntegerIfPresent(Int.self, forKey: .rateLimitPerSec) ?? d.rateLimitPerSec
        burst = try c.decodeIntegerIfPresent(Int.self, forKey: .burst) ?? d.burst
        maxNodes = try c.decodeIntegerIfPresent(Int.self, forKey: .maxNodes) ?? d.maxNodes
        maxStoredBytes = try c.decodeIntegerIfPresent(Int.self, forKey: .maxStoredBytes) ?? d.maxStoredBytes
    }

    /// Ranges: queued 1…1,000,000; in flight 1…100,000; budget 1…10,000,000; weight 1…100;
    /// rate 1…1,000,000 per second; burst 1…1,000,000; nodes 1…100,000; stored bytes 1 MiB…1 TiB.
    public func validate() throws(APIProblem) {
        try TaskSubmission.check(maxQueued, in: 1...1_000_000, field: "maxQueued")
        try TaskSubmission.check(maxInFlight, in: 1...100_000, field: "maxInFlight")
        try TaskSubmission.check(cpuBudget, in: 1...10_000_000, field: "cpuBudget")
        try TaskSubmission.check(weight, in: 1...100, field: "weight")
        try TaskSubmission.check(rateLimitPerSec, in: 1...1_000_000, field: "rateLimitPerSec")
        try TaskSubmission.check(burst, in: 1...1_000_000, field: "burst")
        try TaskSubmission.check(maxNodes, in: 1...100_000, field: "maxNodes")
        try TaskSubmission.check(maxStoredBytes, in: Self.storedBytesRange, field: "maxStoredBytes")
    }
}

/// Answer to tenant creation. The tokens are shown once; Redis keeps only their SHA-256.
public struct TenantCreated: Codable, Sendable, Hashable {
    public var tenant: String
    public var settings: TenantSettings
    /// Bearer token for the tenant API, or nil when the tenant existed and only settings changed.
    public var token: String?
    /// Dev-mode credential agents of this tenant present in `hello`.
    public var agentToken: String?
    public init(tenant: String, settings: TenantSettings, token: String?, agentToken: String?) {
        self.tenant = tenant
        self.settings = settings
        self.token = token
        self.agentToken = agentToken
    }
}
