public import FluxRedis

/// Removes every key of a tenant whose deletion has started (`TenantAdmin.beginDeletion`), in
/// bounded steps, and finally its config and its place in the slot's sets.
///
/// Run by the owner of the tenant's slot (the process that also holds its agents' sessions and
/// would otherwise write its node records again), after it closed those sessions. Every step is
/// idempotent: a sweep cut short by a crash is simply run again by the next owner, since the
/// tenant stays in `ff:deleting` until the last step.
public struct TenantSweeper: Sendable {
    public let redis: any RedisBackend
    public let slotCount: Int
    /// Keys removed per round trip.
    static let chunk = 500

    public init(redis: any RedisBackend, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    /// Tenants whose deletion has started and not finished.
    public func pending() async throws -> [String] {
        try await redis.send(RedisCommand("SMEMBERS", ClusterKeys.deleting)).array?.compactMap(\.string) ?? []
    }

    /// Removes the tenant's keys; returns how many were removed.
    public func sweep(_ tenant: String) async throws -> Int {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        var removed = 0
        // Task records and timelines, through the tenant's listing index.
        while true {
            let ids = try await redis.send(RedisCommand("ZRANGE", keys.tenantTasks(tenant), "0", String(Self.chunk - 1)))
                .array?.compactMap(\.string) ?? []
            if ids.isEmpty { break }
            removed += try await delete(ids.flatMap { [keys.task($0), keys.timeline($0)] })
            _ = try await redis.send(RedisCommand("ZREM", arguments: [keys.tenantTasks(tenant)] + ids))
        }
        // Desired states: each item's spec, node records and per-node timelines.
        let names = try await redis.send(RedisCommand("SMEMBERS", keys.tenantDesired(tenant))).array?.compactMap(\.string) ?? []
        for name in names {
            let nodes = try await redis.send(RedisCommand("HKEYS", keys.desiredNodes(tenant, name))).array?.compactMap(\.string) ?? []
            for part in chunks(nodes.map { keys.desiredTimeline(tenant, name, $0) }) { removed += try await delete(part) }
            removed += try await delete([keys.desired(tenant, name), keys.desiredNodes(tenant, name)])
        }
        removed += try await delete([keys.tenantDesired(tenant)])
        // Node records.
        let nodes = try await redis.send(RedisCommand("SMEMBERS", keys.tenantNodes(tenant))).array?.compactMap(\.string) ?? []
        for part in chunks(nodes.map { keys.node(tenant, $0) }) { removed += try await delete(part) }
        removed += try await delete([keys.tenantNodes(tenant)])
        // Join tokens and the record of issued certificates.
        let joins = try await redis.send(RedisCommand("SMEMBERS", keys.tenantJoinTokens(tenant))).array?.compactMap(\.string) ?? []
        for part in chunks(joins.map { keys.joinToken(tenant, $0) }) { removed += try await delete(part) }
        removed += try await delete([keys.tenantJoinTokens(tenant), keys.tenantCertificates(tenant)])
        // Idempotency keys `<tenant>:<key>` in the slot's shared set and hash.
        try await scan("ZSCAN", keys.idempotency, match: tenant + ":*") { members in
            _ = try await redis.pipeline([
                RedisCommand("ZREM", arguments: [keys.idempotency] + members), RedisCommand("HDEL", arguments: [keys.idempotencyValues] + members),
            ])
            removed += members.count
        }
        // The tenant's entries in the slot's event stream (at most `SlotKeys.eventsMaxLength`).
        let events = try await redis.send(RedisCommand("XRANGE", keys.events, "-", "+")).array ?? []
        let theirs = events.compactMap { entry -> String? in
            guard let pair = entry.array, pair.count == 2, TaskStore.stringHash(pair[1])["tenant"] == tenant else { return nil }
            return pair[0].string
        }
        for part in chunks(theirs) { _ = try await redis.send(RedisCommand("XDEL", arguments: [keys.events] + part)) }
        // Storage ledger days, then the last step: config, counters, set memberships.
        try await scan("HSCAN", keys.stored, match: tenant + "@*") { fields in
            _ = try await redis.send(RedisCommand("HDEL", arguments: [keys.stored] + fields))
        }
        _ = try await redis.pipeline([
            RedisCommand("HDEL", keys.stored, tenant), RedisCommand("HDEL", keys.live, tenant, tenant + ":ingest"),
            RedisCommand("SREM", keys.tenants, tenant), RedisCommand("DEL", keys.tenantConfig(tenant)),
            RedisCommand("SREM", ClusterKeys.deleting, tenant),
        ])
        return removed + 1
    }

    private func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try await redis.send(RedisCommand("UNLINK", arguments: keys)).int ?? 0)
    }

    private func chunks(_ keys: [String]) -> [[String]] {
        stride(from: 0, to: keys.count, by: Self.chunk).map { Array(keys[$0..<min($0 + Self.chunk, keys.count)]) }
    }

    /// Calls `body` with the members (or hash fields) of `key` matching `match`, a page at a time.
    private func scan(_ command: String, _ key: String, match: String, _ body: ([String]) async throws -> Void) async throws {
        var cursor = "0"
        repeat {
            let reply = try await redis.send(RedisCommand(command, key, cursor, "MATCH", match, "COUNT", "1000")).array ?? []
            guard reply.count == 2, let next = reply[0].string else { return }
            cursor = next
            // ZSCAN and HSCAN answer member/score or field/value pairs: every other element.
            let page = (reply[1].array ?? []).enumerated().filter { $0.offset % 2 == 0 }.compactMap(\.element.string)
            if !page.isEmpty { try await body(page) }
        } while cursor != "0"
    }
}
