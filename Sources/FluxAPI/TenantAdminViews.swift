/// One tenant in `GET /v1/admin/tenants`.
public struct TenantSummary: Codable, Sendable, Hashable {
    public var tenant: String
    public var settings: TenantSettings
    public var suspended: Bool
    /// Deletion started (`DELETE /v1/admin/tenants/{t}`); the tenant leaves the list once its
    /// keys are gone.
    public var deleting: Bool
    public var createdAtMs: Int64
    public init(tenant: String, settings: TenantSettings, suspended: Bool, deleting: Bool = false, createdAtMs: Int64) {
        self.tenant = tenant
        self.settings = settings
        self.suspended = suspended
        self.deleting = deleting
        self.createdAtMs = createdAtMs
    }
}

/// `GET /v1/admin/tenants`: every tenant of the cluster, sorted by name.
public struct TenantList: Codable, Sendable, Hashable {
    public var tenants: [TenantSummary]
    public init(tenants: [TenantSummary]) { self.tenants = tenants }
}

/// The body of `POST /v1/admin/tenants/{tenant}/token:rotate` (optional).
public struct TokenRotation: Codable, Sendable, Hashable {
    /// How long the replaced token keeps working, so clients can switch without an outage.
    public var graceSeconds: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case graceSeconds }

    public init(graceSeconds: Int = 3_600) { self.graceSeconds = graceSeconds }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        graceSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .graceSeconds) ?? 3_600
    }

    /// 0 (the old token stops at once) … 30 days.
    public func validate() throws(APIProblem) {
        try TaskSubmission.check(graceSeconds, in: 0...2_592_000, field: "graceSeconds")
    }
}

/// Answer to a rotation: the new token, shown once.
public struct TokenRotated: Codable, Sendable, Hashable {
    public var tenant: String
    public var token: String
    /// Until when the previous token is still accepted (Unix ms).
    public var previousTokenValidUntilMs: Int64
    public init(tenant: String, token: String, previousTokenValidUntilMs: Int64) {
        self.tenant = tenant
        self.token = token
        self.previousTokenValidUntilMs = previousTokenValidUntilMs
    }
}

/// One admin action in the audit stream.
public struct AuditEntry: Codable, Sendable, Hashable {
    public var id: String
    public var atMs: Int64
    /// The process that carried it out (`shard-1`, `router`).
    public var by: String
    /// `tenant_created`, `tenant_updated`, `token_rotated`, `token_revoked`, `tenant_suspended`,
    /// `tenant_resumed`, `mode_set`.
    public var action: String
    public var tenant: String
    public var detail: String
    public init(id: String, atMs: Int64, by: String, action: String, tenant: String, detail: String) {
        self.id = id
        self.atMs = atMs
        self.by = by
        self.action = action
        self.tenant = tenant
        self.detail = detail
    }
}

/// `GET /v1/admin/audit`: newest first.
public struct AuditPage: Codable, Sendable, Hashable {
    public var entries: [AuditEntry]
    public init(entries: [AuditEntry]) { self.entries = entries }
}
