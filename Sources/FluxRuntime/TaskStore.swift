public import FluxAPI
public import FluxRedis
import Foundation

/// Reads and writes task records in Redis: submission (the unfenced ingest write) and the API's
/// reads. State changes after submission go through `TransitionWriter`, which is fenced.
public struct TaskStore: Sendable {
    public let redis: any RedisBackend
    public let slotCount: Int
    /// How long an idempotency key is remembered (24 h; docs/redis-schema.md).
    public var idempotencyTTLMs: Int64 = 24 * 3_600_000
    /// How long a timeline stream lives after its last entry.
    public var timelineTTLMs: Int64 = 24 * 3_600_000
    /// How long finished task records (and so their index entries) are kept: the retention.
    public var recordTTLMs: Int64 = Self.defaultRetentionMs
    /// The retention of finished tasks when none is configured (`--retention-hours`): 24 h, the
    /// timeline's lifetime before tasks were compacted.
    public static let defaultRetentionMs: Int64 = 24 * 3_600_000

    /// A tenant's submissions that may wait in its slot's ingest stream before the door refuses
    /// (`DoorRefusal.ingestBacklog`).
    public static var ingestBacklogLimit: Int { DoorScript.ingestBacklogLimit }

    static let submit = RedisScript(SubmitScript.source)
    static let door = RedisScript(DoorScript.batch)

    /// A submission refused at the door (`DoorScript`): nothing was written.
    public enum DoorRefusal: Error, Sendable, Equatable {
        /// Over the tenant's rate; the same submission passes after `retryAfterMs`.
        case rateLimited(retryAfterMs: Int64)
        /// The tenant already has `outstanding` unfinished tasks of `limit` (`maxQueued`).
        case quotaExceeded(outstanding: Int, limit: Int)
        /// A batch bigger than the tenant's `burst` or `maxQueued`: waiting would never help.
        case tooLarge(limit: String)
        /// The tenant's records already hold `stored` bytes of its `maxStoredBytes`; the oldest
        /// finished ones expire (and free their bytes) in `retryAfterMs`.
        case storageExceeded(stored: Int, limit: Int, retryAfterMs: Int64)
        /// `DoorScript.ingestBacklogLimit` of the tenant's submissions are still waiting in the
        /// slot's ingest stream.
        case ingestBacklog(retryAfterMs: Int64)
        /// The operator suspended the tenant.
        case suspended
    }

    /// When a submission counts as written (`--redis-ack`): by default when the master has it.
    public var ack = ReplicaAck.local

    /// On a Redis Cluster, the shard owning a slot (the router's owner table, or the shard
    /// itself), whose doorbell (`IngestStream.doorbell`) a written submission rings; nil on one
    /// server, where the owner blocks on its streams directly.
    public var owner: (@Sendable (_ slot: Int) -> String?)?

    public init(redis: any RedisBackend, slotCount: Int, retention: Duration? = nil, ack: ReplicaAck = .local) {
        self.redis = redis
        self.slotCount = slotCount
        self.ack = ack
        if let retention { recordTTLMs = retention.milliseconds }
    }

    /// Outcome of a submission write.
    public enum SubmitOutcome: Sendable, Equatable {
        case created(String)
        /// Same idempotency key and same body within 24 h: the original task.
        case replay(String)
        /// The caller-chosen task id already names this tenant's task: the same submission,
        /// written by an earlier try.
        case existing(String)
        /// Same idempotency key, different body (or a chosen id that is another tenant's).
        case conflict(String)
    }

    /// Writes a validated submission atomically; when this returns `.created`, the task is durable.
    /// `taskID` names the task (the router's retry identity); nil draws a fresh id.
    public func submit(
        tenant: String, submission: TaskSubmission, idempotencyKey: String?, taskID: String? = nil, nowMs: Int64,
        origin: TaskOrigin? = nil
    ) async throws -> SubmitOutcome {
        let call = submitCall(
            tenant: tenant, submission: submission, idempotencyKey: idempotencyKey, taskID: taskID, nowMs: nowMs, origin: origin)
        let outcome: SubmitOutcome
        if ack.replicas > 0 {
            let reply = try await redis.evaluateMany(Self.submit, [call.call], ack: ack)[0]
            if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
            outcome = try Self.outcome(reply)
        } else {
            outcome = try Self.outcome(try await redis.evaluate(Self.submit, keys: call.call.keys, arguments: call.call.arguments))
        }
        if case .created = outcome { await ringDoorbell(tenant: tenant) }
        return outcome
    }

    /// Tells the owner of `tenant`'s slot that its stream has a new entry (Redis Cluster only).
    /// Best effort: a ring lost (the owner moved, Redis failed after the write) costs latency,
    /// not the task, since the owner also reads every slot every `IngestConsumer.clusterSweepInterval`.
    private func ringDoorbell(tenant: String) async {
        let slot = Slotting.slot(forTenant: tenant, slotCount: slotCount)
        guard let owner, let shard = owner(slot) else { return }
        _ = try? await redis.send(RedisCommand("ZADD", IngestStream.doorbell(shardID: shard), 0, slot))
    }

    /// Days ahead the door counts finished records (they expire `recordTTLMs` after they end,
    /// counted to the end of that day).
    var storageHorizonDays: Int { Int((recordTTLMs + 86_399_999) / 86_400_000) + 1 }

    /// What a task's records cost in Redis beyond its own fields: its ingest entry, first
    /// timeline entry, index entry and idempotency entries (measured with MEMORY USAGE, rounded
    /// up; docs/security.md).
    static let recordOverheadBytes = 400

    /// Writes many submissions: the whole batch passes the door at once (or none of it is
    /// written, `DoorRefusal`), then one pipelined round trip writes them (each atomic on its own).
    ///
    /// A named batch — the router's `batchID`, or a client's idempotency key — derives its item
    /// ids from that name, so a retry of the same batch finds the items already written
    /// (`existing`, or `replay` under the key) and the door charges only the new ones. An
    /// unnamed batch gets fresh ids.
    public func submitBatch(
        tenant: String, submissions: [TaskSubmission], nowMs: Int64, batchID: String? = nil, idempotencyKey: String? = nil
    ) async throws -> [SubmitOutcome] {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        // The client's key outlives the router's name (one per client call): it wins.
        let name = idempotencyKey.map { "key:\(tenant):\($0)" } ?? batchID
        let ids = submissions.indices.map { index in name.map { TaskIDs.item(of: $0, index: index) } ?? TaskIDs.generate() }
        // Named items already written are not charged again; unnamed ones are all new.
        let itemKeys = name == nil ? [] : ids.map { keys.task($0) }
        let calls = zip(submissions, ids).enumerated().map { index, item in
            submitCall(
                tenant: tenant, submission: item.0, idempotencyKey: idempotencyKey.map { "\($0)#\(index)" },
                taskID: name == nil ? nil : item.1, nowMs: nowMs, doorCost: 0, fixedID: item.1)
        }
        let bytes = calls.reduce(0) { $0 + $1.recordBytes }
        let admitted = try await redis.evaluate(
            Self.door, keys: [keys.tenantConfig(tenant), keys.live, keys.stored] + itemKeys,
            arguments: [String(nowMs), tenant, String(submissions.count), String(bytes), String(storageHorizonDays)])
        try Self.throwIfRefused(admitted)
        let outcomes = try await redis.evaluateMany(Self.submit, calls.map(\.call), ack: ack).map { reply in
            if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
            return try Self.outcome(reply)
        }
        if outcomes.contains(where: { if case .created = $0 { true } else { false } }) { await ringDoorbell(tenant: tenant) }
        return outcomes
    }

    private func submitCall(
        tenant: String, submission: TaskSubmission, idempotencyKey: String?, taskID: String?, nowMs: Int64, origin: TaskOrigin? = nil,
        doorCost: Int = 1, fixedID: String? = nil
    ) -> (call: ScriptCall, recordBytes: Int) {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let id = taskID ?? fixedID ?? TaskIDs.generate()
        let bodyHash = Tokens.sha256Hex(TaskRecord.json(submission))
        let fields = TaskRecord.fields(
            id: id, tenant: tenant, submission: submission, nowMs: nowMs, idempotencyKey: idempotencyKey, origin: origin)
        var pairs: [String] = []
        for (field, value) in fields { pairs += [field, value] }
        // A named submission remembers its body, so a repeat of the id with another body is refused.
        if taskID != nil { pairs += ["body_sha", bodyHash] }
        let bytes = pairs.reduce(Self.recordOverheadBytes + 32) { $0 + $1.utf8.count }
        pairs += ["bytes", String(bytes)]
        let arguments = [
            String(nowMs), idempotencyKey.map { tenant + ":" + $0 } ?? "", bodyHash,
            String(idempotencyTTLMs), id, tenant, String(timelineTTLMs), String(recordTTLMs), taskID == nil ? "0" : "1",
            String(doorCost), String(bytes),
        ] + pairs
        let call = ScriptCall(
            keys: [
                keys.idempotency, keys.idempotencyValues, keys.task(id), keys.ingest, keys.timeline(id), keys.tenantTasks(tenant),
                keys.tenantConfig(tenant), keys.live, keys.stored, keys.events,
            ],
            arguments: arguments)
        return (call, bytes)
    }

    /// Throws the refusal a script reply carries, if it carries one.
    static func throwIfRefused(_ reply: RedisReply) throws {
        let parts = reply.array?.compactMap(\.string) ?? []
        guard parts.count == 2 else { throw RedisError(code: .protocolError, message: "door returned \(reply)") }
        switch parts[0] {
        case "rate_limited": throw DoorRefusal.rateLimited(retryAfterMs: Int64(parts[1]) ?? 1_000)
        case "too_large": throw DoorRefusal.tooLarge(limit: parts[1])
        case "suspended": throw DoorRefusal.suspended
        case "ingest_backlog": throw DoorRefusal.ingestBacklog(retryAfterMs: Int64(parts[1]) ?? 100)
        case "storage_exceeded":
            let words = parts[1].split(separator: " ")
            let numbers = words.last?.split(separator: "/").compactMap { Int($0) } ?? []
            throw DoorRefusal.storageExceeded(
                stored: numbers.first ?? 0, limit: numbers.last ?? 0, retryAfterMs: words.first.flatMap { Int64($0) } ?? 60_000)
        case "quota_exceeded":
            let numbers = parts[1].split(separator: "/").compactMap { Int($0) }
            throw DoorRefusal.quotaExceeded(outstanding: numbers.first ?? 0, limit: numbers.last ?? 0)
        default: return
        }
    }

    static func outcome(_ reply: RedisReply) throws -> SubmitOutcome {
        try throwIfRefused(reply)
        let parts = reply.array?.compactMap(\.string) ?? []
        guard parts.count == 2 else { throw RedisError(code: .protocolError, message: "submit script returned \(reply)") }
        switch parts[0] {
        case "created": return .created(parts[1])
        case "replay": return .replay(parts[1])
        case "existing": return .existing(parts[1])
        default: return .conflict(parts[1])
        }
    }

    /// The task record, or nil when it does not exist or belongs to another tenant.
    public func task(tenant: String, id: String) async throws -> TaskView? {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let hash = try await redis.hgetallStrings(keys.task(id))
        guard let view = TaskRecord.view(from: hash), view.tenant == tenant else { return nil }
        return view
    }

    /// The raw task hash (every field as stored), or nil when it does not exist or belongs to
    /// another tenant. For `explain`, which reads fields the API view does not carry.
    public func record(tenant: String, id: String) async throws -> [String: String]? {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let hash = try await redis.hgetallStrings(keys.task(id))
        guard hash["tenant"] == tenant else { return nil }
        return hash
    }

    /// The newest timeline entry of a task, if any (nil when the task is not this tenant's).
    public func lastTimelineEntry(tenant: String, id: String) async throws -> TimelineEntry? {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let replies = try await redis.pipeline([
            RedisCommand("HMGET", keys.task(id), "tenant", "timeline"), RedisCommand("XREVRANGE", keys.timeline(id), "+", "-", "COUNT", "1"),
        ])
        guard replies.count == 2, let fields = replies[0].array, fields.first?.string == tenant else { return nil }
        if let packed = fields.last?.string { return PackedTimeline.unpack(packed).last }
        return (replies[1].array ?? []).compactMap(Self.timelineEntry).first
    }

    /// The timeline of a task in order, oldest first; empty when the task is not this tenant's
    /// (tenants of one slot share its keys, so the owner is checked, not assumed). A finished
    /// task's comes from its record (`PackedTimeline`), an unfinished one's from its stream.
    public func timeline(tenant: String, id: String) async throws -> [TimelineEntry] {
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let replies = try await redis.pipeline([
            RedisCommand("HMGET", keys.task(id), "tenant", "timeline"), RedisCommand("XRANGE", keys.timeline(id), "-", "+"),
        ])
        guard replies.count == 2, let fields = replies[0].array, fields.first?.string == tenant else { return [] }
        if let packed = fields.last?.string { return PackedTimeline.unpack(packed) }
        return (replies[1].array ?? []).compactMap(Self.timelineEntry)
    }

    static func timelineEntry(_ reply: RedisReply) -> TimelineEntry? {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string else { return nil }
        return timelineEntry(id: id, fields: stringHash(pair[1]))
    }

    /// A timeline entry from its stream fields, as the submit and transition scripts write them.
    static func timelineEntry(id: String, fields: [String: String]) -> TimelineEntry {
        TimelineEntry(
            id: id, atMs: TaskRecord.int64(fields["at"]), from: fields["from"] ?? "", to: fields["to"] ?? "",
            reason: fields["reason"] ?? "", shard: fields["shard"] ?? "", epoch: TaskRecord.int64(fields["epoch"]),
            node: fields["node"].flatMap { $0.isEmpty ? nil : $0 }, attempt: TaskRecord.int(fields["attempt"]))
    }
}

extension RedisCommandSender {
    /// HGETALL with values decoded as UTF-8 strings (task records hold only text).
    func hgetallStrings(_ key: String) async throws -> [String: String] {
        TaskStore.stringHash(try await send(RedisCommand("HGETALL", key)))
    }
}
