public import FluxAPI
public import FluxRedis

/// The operator's tenant lifecycle — list, rotate or revoke the API token, suspend, resume,
/// delete —
/// and the audit stream every admin action is appended to (`ff:audit`, docs/security.md).
///
/// Each operation is a single Redis write to the tenant's config hash, so any process holding
/// the admin token and Redis (a shard, the router) can carry it out; processes see the change
/// within their authentication cache's lifetime (2 s), and a suspension at once (it is checked
/// at the door, in the submit script).
public struct TenantAdmin: Sendable {
    public let tenants: TenantStore
    /// Recorded in each audit entry: which process carried the action out.
    public let actor: String

    static let rotateScript = RedisScript(TenantScripts.rotate)
    static let updateScript = RedisScript(TenantScripts.update)
    static let beginDeletionScript = RedisScript(TenantScripts.beginDeletion)
    /// Audit entries kept (approximately): the newest 10,000 admin actions.
    static let auditLength = 10_000

    public init(tenants: TenantStore, actor: String) {
        self.tenants = tenants
        self.actor = actor
    }

    var redis: any RedisBackend { tenants.redis }

    /// Every tenant of every slot, sorted by name (two pipelined round trips).
    public func list() async throws -> [TenantSummary] {
        let slots = 0..<tenants.slotCount
        let sets = try await redis.pipeline(slots.map { RedisCommand("SMEMBERS", SlotKeys(slot: $0).tenants) })
        let names = zip(slots, sets).flatMap { slot, reply in (reply.array ?? []).compactMap(\.string).map { (slot, $0) } }
        let hashes = try await redis.pipeline(names.map { RedisCommand("HGETALL", SlotKeys(slot: $0.0).tenantConfig($0.1)) })
        return zip(names, hashes).compactMap { entry, reply -> TenantSummary? in
            let hash = TaskStore.stringHash(reply)
            guard let created = hash["created_ms"].flatMap(Int64.init) else { return nil }
            return TenantSummary(
                tenant: entry.1, settings: TenantStore.settings(hash), suspended: hash["suspended"] == "1",
                deleting: hash["deleting"] == "1", createdAtMs: created)
        }.sorted { $0.tenant < $1.tenant }
    }

    /// A new API token; the old one stays valid for `graceSeconds`. Nil when the tenant is unknown.
    public func rotate(_ tenant: String, graceSeconds: Int, nowMs: Int64) async throws -> TokenRotated? {
        let token = Tokens.generate(prefix: "fft_")
        let until = graceSeconds > 0 ? nowMs + Int64(graceSeconds) * 1_000 : 0
        let reply = try await redis.evaluate(
            Self.rotateScript, keys: [config(tenant)], arguments: [Tokens.sha256Hex(token), String(nowMs), String(until)])
        guard reply.int == 1 else { return nil }
        try await audit("token_rotated", tenant: tenant, detail: "previous token valid for \(graceSeconds) s", nowMs: nowMs)
        return TokenRotated(tenant: tenant, token: token, previousTokenValidUntilMs: until)
    }

    /// No API token is valid any more (the agent token is untouched); false when unknown.
    public func revoke(_ tenant: String, nowMs: Int64) async throws -> Bool {
        try await update(tenant, ["token_sha256", "", "prev_token_sha256", "", "prev_token_expires_ms", "0"],
                         action: "token_revoked", detail: "", nowMs: nowMs)
    }

    /// Suspends (submissions refused with `403 tenant_suspended`) or resumes; false when unknown.
    public func setSuspended(_ tenant: String, _ suspended: Bool, nowMs: Int64) async throws -> Bool {
        try await update(tenant, ["suspended", suspended ? "1" : "0"],
                         action: suspended ? "tenant_suspended" : "tenant_resumed", detail: "", nowMs: nowMs)
    }

    /// What `beginDeletion` did.
    public enum DeletionStart: Sendable, Equatable {
        /// Marked: the slot's owner removes its keys shortly (or it already was being deleted).
        case started
        case unknownTenant
        /// It still has `unfinished` tasks: cancel them (or let them end) first.
        case busy(unfinished: Int)
    }

    /// Starts deleting a tenant with no unfinished task (`TenantScripts.beginDeletion`); its
    /// slot's owner closes its sessions and removes its keys (`TenantSweeper`).
    public func beginDeletion(_ tenant: String, nowMs: Int64) async throws -> DeletionStart {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: tenants.slotCount))
        let reply = try await redis.evaluate(
            Self.beginDeletionScript,
            keys: [keys.tenantConfig(tenant), keys.live, keys.desiredIndex, keys.tenantDesired(tenant)],
            arguments: [tenant, String(nowMs)])
        let parts = reply.array?.compactMap(\.string) ?? []
        switch parts.first {
        case "ok":
            // Outside the script: `ff:deleting` is not in the tenant's slot (one script, one hash
            // slot, as Redis Cluster requires). A crash between the two leaves the config marked
            // and the call unanswered; repeating it passes the script again (already deleting)
            // and adds the tenant here.
            _ = try await redis.send(RedisCommand("SADD", ClusterKeys.deleting, tenant))
            try await audit("tenant_deletion_started", tenant: tenant, detail: "", nowMs: nowMs)
            return .started
        case "busy": return .busy(unfinished: parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        case "missing": return .unknownTenant
        default: throw RedisError(code: .protocolError, message: "tenant deletion script returned \(reply)")
        }
    }

    private func update(_ tenant: String, _ fields: [String], action: String, detail: String, nowMs: Int64) async throws -> Bool {
        guard try await redis.evaluate(Self.updateScript, keys: [config(tenant)], arguments: fields).int == 1 else { return false }
        try await audit(action, tenant: tenant, detail: detail, nowMs: nowMs)
        return true
    }

    /// Appends one admin action to `ff:audit`.
    public func audit(_ action: String, tenant: String, detail: String, nowMs: Int64) async throws {
        _ = try await redis.send(RedisCommand(
            "XADD", ClusterKeys.audit, "MAXLEN", "~", String(Self.auditLength), "*",
            "at", String(nowMs), "by", actor, "action", action, "tenant", tenant, "detail", detail))
    }

    /// The newest `limit` audit entries, newest first.
    public func auditEntries(limit: Int) async throws -> [AuditEntry] {
        let reply = try await redis.send(RedisCommand("XREVRANGE", ClusterKeys.audit, "+", "-", "COUNT", String(limit)))
        return (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return nil }
            let f = TaskStore.stringHash(pair[1])
            return AuditEntry(
                id: id, atMs: TaskRecord.int64(f["at"]), by: f["by"] ?? "", action: f["action"] ?? "", tenant: f["tenant"] ?? "",
                detail: f["detail"] ?? "")
        }
    }

    func config(_ tenant: String) -> String {
        SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: tenants.slotCount)).tenantConfig(tenant)
    }
}
