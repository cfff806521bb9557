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

    enum CodingKeys: String, CodingKey, CaseIterable { case maxQueued, maxInFlight, cpuBudget, weight, rateLimitPerSec, burst, maxNodes }

    public init(
        maxQueued: Int = 10_000, maxInFlight: Int = 1_000, cpuBudget: Int = 10_000, weight: Int = 1,
        rateLimitPerSec: Int = 2_000, burst: Int = 10_000, maxNodes: Int = 10_000
    ) {
        self.maxQueued = maxQueued
        self.maxInFlight = maxInFlight
        self.cpuBudget = cpuBudget
        self.weight = weight
        self.rateLimitPerSec = rateLimitPerSec
        self.burst = burst
        self.maxNodes = maxNodes
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
    }

    /// Ranges: queued 1…1,000,000; in flight 1…100,000; budget 1…10,000,000; weight 1…100;
    /// rate 1…1,000,000 per second; burst 1…1,000,000; nodes 1…100,000.
    public func validate() throws(APIProblem) {
        try TaskSubmission.check(maxQueued, in: 1...1_000_000, field: "maxQueued")
        try TaskSubmission.check(maxInFlight, in: 1...100_000, field: "maxInFlight")
        try TaskSubmission.check(cpuBudget, in: 1...10_000_000, field: "cpuBudget")
        try TaskSubmission.check(weight, in: 1...100, field: "weight")
        try TaskSubmission.check(rateLimitPerSec, in: 1...1_000_000, field: "rateLimitPerSec")
        try TaskSubmission.check(burst, in: 1...1_000_000, field: "burst")
        try TaskSubmission.check(maxNodes, in: 1...100_000, field: "maxNodes")
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
