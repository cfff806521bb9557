public import FluxRedis

/// Keeps the ingest streams from growing forever: removes entries the consumer group has
/// delivered and acknowledged, and nothing else.
///
/// The cut is `XTRIM … MINID <id>` where id is the oldest pending entry, or, with none pending,
/// the group's last delivered entry (which stays, harmlessly). Entries not yet delivered are
/// above both and are never touched, so no accepted submission can be trimmed away.
public struct IngestTrimmer: Sendable {
    public let redis: RedisClient

    public init(redis: RedisClient) {
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
        for (index, slot) in slots.enumerated() {
            guard let cut = Self.cut(groups: replies[2 * index], pending: replies[2 * index + 1]) else { continue }
            trims.append(RedisCommand("XTRIM", SlotKeys(slot: slot).ingest, "MINID", cut))
        }
        guard !trims.isEmpty else { return 0 }
        return try await redis.pipeline(trims).reduce(0) { $0 + ($1.int ?? 0) }
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
    public static func claimAll(redis: RedisClient, slot: Int, consumer: String) async throws -> Int {
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
