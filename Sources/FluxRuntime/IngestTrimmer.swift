public import FluxRedis

/// Keeps the ingest streams from growing forever: removes entries the consumer group has
/// delivered and acknowledged, and nothing else.
///
/// The cut is `XTRIM … MINID <id>` where id is the oldest pending entry, or, with none pending,
/// the group's last delivered entry (which stays, harmlessly). Entries not yet delivered are
/// above both and are never touched, so no accepted submission can be trimmed away.
public struct IngestTrimmer: Sendable {
    public let redis: any RedisBackend

    public init(redis: any RedisBackend) {
        self.redis = redis
    }

    /// Trims the ingest stream of each slot; returns how many entries were removed in all.
    @discardableResult
    public func trim(slots: [Int]) async throws -> Int64 {
        guard !slots.isEmpty else { return 0 }
        let reads = slots.flatMap { slot -> [RedisCommand] in
            let key = SlotKeys(slot: slot).ingest
            return [RedisCommand("XINFO", "GROUPS", key), RedisCommand("XPENDING", key, IngestStream.group)]
        }
        let replies = try await redis.pipeline(reads)
        var trims: [RedisCommand] = []
        var drained: [Int] = []
        for (index, slot) in slots.enumerated() {
            if Self.isDrained(groups: replies[2 * index], pending: replies[2 * index + 1]) { drained.append(slot) }
            guard let cut = Self.cut(groups: replies[2 * index], pending: replies[2 * index + 1]) else { continue }
            trims.append(RedisCommand("XTRIM", SlotKeys(slot: slot).ingest, "MINID", cut))
        }
        try await resetBacklogs(drained)
        guard !trims.isEmpty else { return 0 }
        return try await redis.pipeline(trims).reduce(0) { $0 + ($1.int ?? 0) }
    }

    /// True when every entry of the stream was delivered and acknowledged.
    static func isDrained(groups: RedisReply, pending: RedisReply) -> Bool {
        guard let summary = pending.array, summary.first?.int == 0,
              let group = groups.array?.first(where: { TaskStore.stringHash($0)["name"] == IngestStream.group }),
              let pairs = group.array, let index = pairs.firstIndex(where: { $0.string == "lag" }), index + 1 < pairs.count
        else { return false }
        return pairs[index + 1].int == 0
    }

    /// The door's per-tenant ingest backlogs (`<tenant>:ingest` in the live hash) of drained
    /// streams back to zero: a count left too high (an entry acknowledged without its admission
    /// outcome, e.g. its record was gone) would otherwise refuse that tenant for good. A
    /// submission racing this reset is forgotten by it, which only lets one more in.
    private func resetBacklogs(_ slots: [Int]) async throws {
        guard !slots.isEmpty else { return }
        let fields = try await redis.pipeline(slots.map { RedisCommand("HGETALL", SlotKeys(slot: $0).live) })
        var resets: [RedisCommand] = []
        for (slot, reply) in zip(slots, fields) {
            let stale = TaskStore.stringHash(reply).filter { $0.key.hasSuffix(":ingest") && $0.value != "0" }.map(\.key)
            if !stale.isEmpty { resets.append(RedisCommand("HDEL", arguments: [SlotKeys(slot: slot).live] + stale)) }
        }
        if !resets.isEmpty { _ = try await redis.pipeline(resets) }
    }

    /// The lowest id to keep, or nil when the group is missing or has delivered nothing.
    static func cut(groups: RedisReply, pending: RedisReply) -> String? {
        if let summary = pending.array, summary.count >= 2, (summary[0].int ?? 0) > 0, let oldest = summary[1].string {
            return oldest
        }
        guard let group = groups.array?.lazy.map(TaskStore.stringHash).first(where: { $0["name"] == IngestStream.group }),
              let delivered = group["last-delivered-id"], delivered != "0-0"
        else { return nil }
        return delivered
    }
}

/// Takes over a slot's ingest entries that were delivered to another shard (a former owner that
/// crashed or handed the slot over) and never acknowledged, so the new owner admits them.
public enum IngestClaim {
    /// Claims every pending entry of the slot's stream for `consumer`; returns how many.
    /// The new owner holds the lease, so the old consumer is fenced: no idle time is required.
    @discardableResult
    public static func claimAll(redis: any RedisBackend, slot: Int, consumer: String) async throws -> Int {
        let key = SlotKeys(slot: slot).ingest
        var start = "0-0"
        var claimed = 0
        for _ in 0..<10_000 {
            let reply: RedisReply
            do {
                reply = try await redis.send(RedisCommand("XAUTOCLAIM", key, IngestStream.group, consumer, "0", start, "COUNT", "500", "JUSTID"))
            } catch {
                if error.serverErrorPrefix == "NOGROUP" { return claimed }  // nothing was ever delivered
                throw error
            }
            guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else { return claimed }
            claimed += parts[1].array?.count ?? 0
            if next == "0-0" { return claimed }
            start = next
        }
        return claimed
    }
}
