public import FluxRedis

/// Read-only summary of the slots in Redis, for `fluxforge ctl inspect`: who owns each slot, at
/// which epoch, and how much work sits in each of its queues. Everything comes from the keys of
/// docs/redis-schema.md, so what it prints is what `redis-cli` would show.
public struct SlotInspector: Sendable {
    /// One slot's state.
    public struct Slot: Sendable, Hashable {
        public var slot: Int
        /// `<shardId>:<epoch>` of the current lease, nil when nobody holds it.
        public var lease: String?
        /// The fencing counter (the epoch of the latest acquisition).
        public var epoch: Int64
        /// Milliseconds until the lease expires unless renewed (nil without a lease).
        public var leaseTTLMs: Int64?
        public var ingestLength: Int64
        /// Ingest entries delivered to a shard and not yet acknowledged.
        public var ingestPending: Int64
        public var ready: Int64
        public var delayed: Int64
        public var inflight: Int64
        /// Enqueue time of the oldest task in `ready`, in Unix ms.
        public var oldestReadyMs: Int64?

        /// True when something waits in the slot (ingest, ready, delayed or in flight).
        public var hasWork: Bool { ingestLength > 0 || ready > 0 || delayed > 0 || inflight > 0 }

        /// True when the slot has never been used.
        public var isEmpty: Bool {
            lease == nil && epoch == 0 && ingestLength == 0 && ready == 0 && delayed == 0 && inflight == 0
        }
    }

    public let redis: any RedisBackend
    public let slotCount: Int

    public init(redis: any RedisBackend, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    /// Every slot, in order, read with one pipeline.
    public func inspect() async throws -> [Slot] {
        var commands: [RedisCommand] = []
        for slot in 0..<slotCount { commands += Self.commands(SlotKeys(slot: slot)) }
        let replies = try await redis.pipeline(commands)
        let stride = commands.count / max(1, slotCount)
        return (0..<slotCount).map { slot in Self.slot(slot, Array(replies[slot * stride..<(slot + 1) * stride])) }
    }

    static func commands(_ keys: SlotKeys) -> [RedisCommand] {
        var commands = [
            RedisCommand("GET", keys.lease), RedisCommand("GET", keys.epoch), RedisCommand("XLEN", keys.ingest),
            RedisCommand("XPENDING", keys.ingest, IngestStream.group), RedisCommand("ZCARD", keys.ready),
            RedisCommand("ZCARD", keys.delayed), RedisCommand("ZCARD", keys.inflight), RedisCommand("PTTL", keys.lease),
        ]
        // The first entry of each priority class's score range is that class's oldest task.
        for priority in 0...10 {
            let low = ReadyScore.score(priority: priority, enqueuedAtMs: 0)
            commands.append(RedisCommand("ZRANGE", keys.ready, String(low), String(low + ReadyScore.classStride - 1), "BYSCORE", "LIMIT", "0", "1", "WITHSCORES"))
        }
        return commands
    }

    static func slot(_ slot: Int, _ replies: [RedisReply]) -> Slot {
        let oldest = replies[8...].compactMap { reply -> Int64? in
            guard let pair = reply.array, pair.count == 2, let score = pair[1].string.flatMap(Double.init) else { return nil }
            return ReadyScore.split(Int64(score)).enqueuedAtMs
        }.min()
        return Slot(
            slot: slot, lease: replies[0].string, epoch: replies[1].string.flatMap(Int64.init) ?? 0,
            leaseTTLMs: replies[0].string == nil ? nil : replies[7].int,
            ingestLength: replies[2].int ?? 0, ingestPending: replies[3].array?.first?.int ?? 0,
            ready: replies[4].int ?? 0, delayed: replies[5].int ?? 0, inflight: replies[6].int ?? 0,
            oldestReadyMs: oldest)
    }
}
