public import FluxAPI
public import FluxCore
public import FluxRedis
import Foundation

/// Desired states and their per-node reconciliation records in Redis (docs/reconciliation.md).
///
/// Everything of a desired state lives in its tenant's slot, so the slot's owner reconciles it
/// and a handoff or crash moves it with the slot. API writes (put, pause, reconcile, delete) are
/// unfenced like submissions; the reconciler's writes are fenced by the slot lease (`writeStep`).
public struct DesiredStore: Sendable {
    public let redis: any RedisBackend
    public let slotCount: Int
    /// How long an (item, node) timeline lives after its last entry (like task timelines).
    public var timelineTTLMs: Int64 = 24 * 3_600_000

    static let putScript = RedisScript(DesiredScripts.put)
    static let stepScript = RedisScript(DesiredScripts.step)
    static let deleteScript = RedisScript(DesiredScripts.delete)
    static let requestCheckScript = RedisScript(DesiredScripts.requestCheck)

    public init(redis: any RedisBackend, slotCount: Int) {
        self.redis = redis
        self.slotCount = slotCount
    }

    /// A desired state as stored.
    public struct Item: Sendable {
        public var tenant: String
        public var name: String
        public var spec: DesiredStateSpec
        public var generation: Int
        /// Random at creation: names its tasks, so a state deleted and declared again under the
        /// same name never replays the old one's idempotency keys.
        public var uid: String
        public var createdAtMs: Int64
        public var updatedAtMs: Int64
        public var checkRequestedAtMs: Int64
    }

    public enum PutOutcome: Sendable, Equatable {
        case created(generation: Int)
        case updated(generation: Int)
        /// The tenant already has `DesiredLimits.maxItemsPerTenant` desired states.
        case full
    }

    func keys(_ tenant: String) -> SlotKeys { SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount)) }

    /// Creates or replaces a validated spec.
    public func put(tenant: String, name: String, spec: DesiredStateSpec, nowMs: Int64) async throws -> PutOutcome {
        let keys = keys(tenant)
        let reply = try await redis.evaluate(
            Self.putScript, keys: [keys.desired(tenant, name), keys.tenantDesired(tenant), keys.desiredIndex],
            arguments: [
                String(nowMs), name, tenant + "/" + name, TaskRecord.json(spec), TaskRecord.json(spec.check),
                // The environment shapes what both commands do: changing it is a new generation too.
                TaskRecord.json(spec.apply) + " " + TaskRecord.json(spec.env), TaskIDs.generate().prefix(8).description, String(DesiredLimits.maxItemsPerTenant),
            ])
        let parts = reply.array?.compactMap(\.string) ?? []
        guard parts.count == 2, let generation = Int(parts[1]) else {
            throw RedisError(code: .protocolError, message: "desired put returned \(reply)")
        }
        switch parts[0] {
        case "created": return .created(generation: generation)
        case "updated": return .updated(generation: generation)
        default: return .full
        }
    }

    public func item(tenant: String, name: String) async throws -> Item? {
        Self.item(tenant: tenant, name: name, hash: try await redis.hgetallStrings(keys(tenant).desired(tenant, name)))
    }

    static func item(tenant: String, name: String, hash: [String: String]) -> Item? {
        guard let spec = TaskRecord.decode(DesiredStateSpec.self, hash["spec"]), let generation = hash["generation"].flatMap(Int.init)
        else { return nil }
        return Item(
            tenant: tenant, name: name, spec: spec, generation: generation, uid: hash["uid"] ?? "",
            createdAtMs: TaskRecord.int64(hash["created_ms"]), updatedAtMs: TaskRecord.int64(hash["updated_ms"]),
            checkRequestedAtMs: TaskRecord.int64(hash["check_requested_ms"]))
    }

    /// Names of the tenant's desired states, sorted.
    public func names(tenant: String) async throws -> [String] {
        let reply = try await redis.send(RedisCommand("SMEMBERS", keys(tenant).tenantDesired(tenant)))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Asks for a check of every node now (`:reconcile`); false when the item does not exist.
    public func requestCheck(tenant: String, name: String, nowMs: Int64) async throws -> Bool {
        let reply = try await redis.evaluate(
            Self.requestCheckScript, keys: [keys(tenant).desired(tenant, name)], arguments: [String(nowMs)])
        return reply.int == 1
    }

    /// Removes the item, its node records and timelines; false when it did not exist.
    public func delete(tenant: String, name: String) async throws -> Bool {
        let keys = keys(tenant)
        let reply = try await redis.evaluate(
            Self.deleteScript,
            keys: [keys.desired(tenant, name), keys.desiredNodes(tenant, name), keys.tenantDesired(tenant), keys.desiredIndex],
            arguments: [name, tenant + "/" + name, keys.desired(tenant, name) + ":tl:"])
        return reply.int == 1
    }

    /// The node records of an item.
    public func nodes(tenant: String, name: String) async throws -> [String: NodeReconciliation] {
        let hash = try await redis.hgetallStrings(keys(tenant).desiredNodes(tenant, name))
        return hash.compactMapValues { TaskRecord.decode(NodeReconciliation.self, $0) }
    }

    /// The (item, node) timeline, oldest first.
    public func timeline(tenant: String, name: String, node: String) async throws -> [DesiredTimelineEntry] {
        let reply = try await redis.send(RedisCommand("XRANGE", keys(tenant).desiredTimeline(tenant, name, node), "-", "+"))
        return (reply.array ?? []).compactMap { entry in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return nil }
            let f = TaskStore.stringHash(pair[1])
            return DesiredTimelineEntry(
                id: id, atMs: TaskRecord.int64(f["at"]), from: f["from"] ?? "", to: f["to"] ?? "", reason: f["reason"] ?? "",
                generation: TaskRecord.int(f["generation"]), taskId: f["task"].flatMap { $0.isEmpty ? nil : $0 },
                exitCode: f["exit"].flatMap(Int.init), shard: f["shard"] ?? "", epoch: TaskRecord.int64(f["epoch"]))
        }
    }
}
