public import FluxRedis

/// Cluster membership in Redis (docs/architecture.md): each shard heartbeats its id into `ff:members`
/// (score = last heartbeat ms) and describes itself in `ff:member:<id>`; a member whose heartbeat
/// is older than the member TTL is dead. `ff:cluster` records the slot count once, so every
/// process can check it agrees with the cluster it joined.
public struct Membership: Sendable {
    /// What a shard says about itself in `ff:member:<id>`.
    public struct Member: Sendable, Hashable {
        public var id: String
        public var api: String
        public var agent: String
        public var startedMs: Int64
        public var version: String
        /// Last heartbeat, Unix ms.
        public var heartbeatMs: Int64
        /// The shard's scheduler mode at its last heartbeat (`NORMAL`, `DEGRADED`, `READ_ONLY`):
        /// routers, which write submissions themselves, refuse them for a READ_ONLY owner.
        public var mode: String
        /// Backpressure at the door (issue 16): tenants whose submissions the shard refuses
        /// now (429 `backlog`), and for how long at least; routers that write submissions
        /// themselves refuse them alike.
        public var refusing: [String] = []
        public var refusingForMs: Int64 = 0
        /// While the shard is DEGRADED: tenants whose submissions of classes above
        /// `degradedMaxClass` it refuses (429 `degraded`); routers refuse them alike.
        public var degradedRefusing: [String] = []
        public var degradedMaxClass = 3

        public init(
            id: String, api: String, agent: String, startedMs: Int64, version: String, heartbeatMs: Int64 = 0, mode: String = "NORMAL",
            refusing: [String] = [], refusingForMs: Int64 = 0
        ) {
            self.refusing = refusing
            self.refusingForMs = refusingForMs
            self.id = id
            self.api = api
            self.agent = agent
            self.startedMs = startedMs
            self.version = version
            self.heartbeatMs = heartbeatMs
            self.mode = mode
        }
    }

    public let redis: any RedisBackend
    /// A member silent for longer than this is dead.
    public let memberTTLMs: Int64

    public init(redis: any RedisBackend, memberTTLMs: Int64) {
        self.redis = redis
        self.memberTTLMs = memberTTLMs
    }

    /// Records the slot count the first time any process joins; returns the cluster's count
    /// (which may differ from `slotCount` if the cluster was created with another).
    public func ensureCluster(slotCount: Int, nowMs: Int64) async throws -> Int {
        let replies = try await redis.pipeline([
            RedisCommand("HSETNX", ClusterKeys.cluster, "slots", String(slotCount)),
            RedisCommand("HSETNX", ClusterKeys.cluster, "created", String(nowMs)),
            RedisCommand("HSETNX", ClusterKeys.cluster, "schema", "1"),
            RedisCommand("HGET", ClusterKeys.cluster, "slots"),
        ])
        return replies[3].string.flatMap(Int.init) ?? slotCount
    }

    /// One heartbeat: score in `ff:members`, description in `ff:member:<id>` (which expires on
    /// its own if the shard dies and nobody cleans up).
    public func heartbeat(_ member: Member, nowMs: Int64) async throws {
        let key = ClusterKeys.member(member.id)
        let replies = try await redis.pipeline([
            RedisCommand("ZADD", ClusterKeys.members, String(nowMs), member.id),
            RedisCommand(
                "HSET", key, "api", member.api, "agent", member.agent, "started", String(member.startedMs), "version", member.version,
                "mode", member.mode, "refusing", member.refusing.prefix(Self.maxRefusingListed).joined(separator: ","),
                "refusing_ms", String(member.refusingForMs),
                "degraded_refusing", member.degradedRefusing.prefix(Self.maxRefusingListed).joined(separator: ","),
                "degraded_max_class", String(member.degradedMaxClass)),
            RedisCommand("PEXPIRE", key, String(memberTTLMs * 3)),
        ])
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
            throw RedisError(code: .server, message: "heartbeat failed: \(failure)")
        }
    }

    /// A clean leave (SIGTERM): the member is gone at once instead of after its TTL.
    public func leave(_ id: String) async throws {
        _ = try await redis.pipeline([RedisCommand("ZREM", ClusterKeys.members, id), RedisCommand("DEL", ClusterKeys.member(id))])
    }

    /// Every member with its description, live or not, by id.
    /// At most this many refused tenants go into a member record (the most over their share
    /// are not told apart; a longer list only costs every router's refresh).
    public static let maxRefusingListed = 200

    public func members() async throws -> [Member] {
        let flat = try await redis.send(RedisCommand("ZRANGE", ClusterKeys.members, "0", "-1", "WITHSCORES")).array ?? []
        let entries: [(id: String, heartbeat: Int64)] = Swift.stride(from: 0, to: flat.count - 1, by: 2).compactMap { index in
            guard let id = flat[index].string, let score = flat[index + 1].string.flatMap(Double.init) else { return nil }
            return (id, Int64(score))
        }
        let hashes = try await redis.pipeline(entries.map { RedisCommand("HGETALL", ClusterKeys.member($0.id)) })
        return zip(entries, hashes).map { entry, reply in
            let hash = TaskStore.stringHash(reply)
            var member = Member(
                id: entry.id, api: hash["api"] ?? "", agent: hash["agent"] ?? "",
                startedMs: hash["started"].flatMap(Int64.init) ?? 0, version: hash["version"] ?? "", heartbeatMs: entry.heartbeat,
                mode: hash["mode"] ?? "NORMAL", refusing: (hash["refusing"] ?? "").split(separator: ",").map(String.init),
                refusingForMs: hash["refusing_ms"].flatMap(Int64.init) ?? 0)
            member.degradedRefusing = (hash["degraded_refusing"] ?? "").split(separator: ",").map(String.init)
            member.degradedMaxClass = hash["degraded_max_class"].flatMap(Int.init) ?? 3
            return member
        }
    }

    /// True when the member's last heartbeat is recent enough.
    public func isLive(_ member: Member, nowMs: Int64) -> Bool {
        nowMs - member.heartbeatMs <= memberTTLMs
    }
}
