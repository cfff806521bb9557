public import FluxAPI
public import FluxCore
public import FluxRedis
import Foundation

/// What the reconciler reads and writes each round.
extension DesiredStore {
    /// One desired state with its node records, as the reconciler loads it.
    public struct Loaded: Sendable {
        public var item: Item
        public var records: [String: NodeReconciliation]
    }

    /// Every desired state of these slots with its node records, in two pipelined round trips
    /// however many slots (an idle shard's round is one round trip of index reads).
    public func load(slots: [Int]) async throws -> [Int: [Loaded]] {
        let indexes = try await redis.pipeline(slots.map { RedisCommand("SMEMBERS", SlotKeys(slot: $0).desiredIndex) })
        var members: [(slot: Int, tenant: String, name: String)] = []
        for (slot, reply) in zip(slots, indexes) {
            for member in (reply.array ?? []).compactMap(\.string).sorted() {
                guard let slash = member.firstIndex(of: "/") else { continue }
                members.append((slot, String(member[..<slash]), String(member[member.index(after: slash)...])))
            }
        }
        var loaded: [Int: [Loaded]] = [:]
        for (member, entry) in zip(members, try await load(members.map { ($0.tenant, $0.name) })) {
            if let entry { loaded[member.slot, default: []].append(entry) }
        }
        return loaded
    }

    /// The named desired states with their node records, in one pipelined round trip; nil where
    /// one does not exist.
    public func load(_ items: [(tenant: String, name: String)]) async throws -> [Loaded?] {
        guard !items.isEmpty else { return [] }
        let commands = items.flatMap { item in
            [RedisCommand("HGETALL", keys(item.tenant).desired(item.tenant, item.name)),
             RedisCommand("HGETALL", keys(item.tenant).desiredNodes(item.tenant, item.name))]
        }
        let replies = try await redis.pipeline(commands)
        return items.enumerated().map { index, member in
            guard let item = Self.item(tenant: member.tenant, name: member.name, hash: TaskStore.stringHash(replies[2 * index])) else {
                return nil
            }
            let records = TaskStore.stringHash(replies[2 * index + 1]).compactMapValues { TaskRecord.decode(NodeReconciliation.self, $0) }
            return Loaded(item: item, records: records)
        }
    }

    /// What became of each task (one pipelined round trip).
    public func results(tenant: String, taskIDs: [String]) async throws -> [String: ReconcileTaskResult] {
        guard !taskIDs.isEmpty else { return [:] }
        let keys = keys(tenant)
        let replies = try await redis.pipeline(taskIDs.map { RedisCommand("HMGET", keys.task($0), "tenant", "state", "exit_code", "reason") })
        var results: [String: ReconcileTaskResult] = [:]
        for (id, reply) in zip(taskIDs, replies) {
            let values = (reply.array ?? []).map(\.string)
            results[id] = Self.result(values.count == 4 && values[0] == tenant ? values : nil)
        }
        return results
    }

    static func result(_ values: [String?]?) -> ReconcileTaskResult {
        guard let values, let state = values[1].flatMap(TaskState.init(rawValue:)) else { return .errored("task_missing") }
        if state == .succeeded { return .exited(0) }
        // Only a command that ran and exited answers; a timeout (the agent reports 124) or a lost
        // node is an error of the attempt, not an answer of the check.
        if state == .failed, values[3] == "non_zero_exit", let code = values[2].flatMap(Int.init) { return .exited(code) }
        // SUSPENDED is not terminal for a task, but for one-attempt reconciliation work it is final.
        guard state.isTerminal || state == .suspended else { return .pending }
        return .errored(values[3] ?? state.rawValue.lowercased())
    }

    /// Writes the changed records and the transitions of one plan, fenced by the slot lease.
    /// Returns false when fenced (the slot is no longer ours) or the item was deleted.
    public func writeStep(
        _ plan: ReconcilePlan, item: Item, lease: SlotLeases.Lease, shard: String, nowMs: Int64
    ) async throws -> Bool {
        let keys = keys(item.tenant)
        let changed = plan.changed.sorted()
        var transitions = plan.transitions[...]
        var remaining = changed[...]
        repeat {
            // Bounded chunks: Lua's unpack has a stack limit.
            let records = remaining.prefix(100)
            remaining = remaining.dropFirst(records.count)
            let entries = transitions.prefix(100)
            transitions = transitions.dropFirst(entries.count)
            var arguments = [lease.value, String(timelineTTLMs), String(records.count)]
            for node in records {
                guard let record = plan.states[node] else { continue }
                arguments += [node, TaskRecord.json(record)]
            }
            var scriptKeys = [SlotKeys(slot: keys.slot).lease, keys.desired(item.tenant, item.name), keys.desiredNodes(item.tenant, item.name)]
            for entry in entries {
                scriptKeys.append(keys.desiredTimeline(item.tenant, item.name, entry.node))
                let fields = Self.timelineFields(entry, generation: plan.states[entry.node]?.generation ?? item.generation,
                                                 shard: shard, epoch: lease.epoch, nowMs: nowMs)
                arguments.append(String(fields.count))
                arguments += fields
            }
            let reply = try await redis.evaluate(Self.stepScript, keys: scriptKeys, arguments: arguments)
            guard reply.int == 1 else { return false }
        } while !remaining.isEmpty || !transitions.isEmpty
        return true
    }

    static func timelineFields(_ entry: ReconcileTransition, generation: Int, shard: String, epoch: Int64, nowMs: Int64) -> [String] {
        var fields = [
            "at", String(nowMs), "from", entry.from?.rawValue ?? "", "to", entry.to.rawValue, "reason", entry.reason.rawValue,
            "generation", String(generation), "task", entry.taskID ?? "", "shard", shard, "epoch", String(epoch),
        ]
        if let code = entry.exitCode { fields += ["exit", String(code)] }
        return fields
    }

    /// The task id of a piece of work: derived from the item's uid and the work alone, so the
    /// same work planned again (by this shard after a crash, or by a new owner) names the same
    /// task and the submission finds it instead of writing a twin.
    public static func taskID(uid: String, work: ReconcileWork) -> String {
        TaskIDs.item(of: "desired/\(uid)/\(work.generation)/\(work.node)/\(work.kind.rawValue)", index: work.sequence)
    }

    /// The idempotency key of a piece of work: (item, generation, node, drift or check number).
    public static func idempotencyKey(uid: String, work: ReconcileWork) -> String {
        let number = work.kind == .apply ? "drift-\(work.sequence)" : "check-\(work.sequence)"
        return "desired-\(uid)/g\(work.generation)/\(work.node)/\(number)"
    }
}
