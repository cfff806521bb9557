public import FluxRedis

/// One task state change to make durable, as decided by the scheduling core.
public struct TransitionRequest: Sendable {
    /// Which of the three scheduling sets the task belongs in afterwards.
    public enum Queue: Sendable, Equatable {
        case none
        /// Stay in whichever set the task is in (e.g. DISPATCHED → RUNNING keeps its deadline).
        case keep
        case ready(score: Int64)
        case delayed(dueMs: Int64)
        case inflight(deadlineMs: Int64)
        /// In `delayed` with score +inf: waits for an operator (SUSPENDED), never due by itself.
        case parked
    }

    public var slot: Int
    public var taskID: String
    /// States the task must be in for the change to apply (empty: any).
    public var expected: [String]
    public var to: String
    public var reason: String
    public var node: String?
    public var attempt: Int
    public var queue: Queue
    /// The ingest entry to XACK in the same step (admission outcomes).
    public var ingestEntry: String?
    /// Terminal states keep the record for `recordTTLMs`, then Redis expires it.
    public var terminal: Bool
    /// Extra task fields to set (result, attempt, assigned node, …).
    public var fields: [(String, String)]
    /// States the task passes through before `to`, each with its own timeline entry (set when
    /// `TransitionWriter` coalesces two changes of one task decided in the same turn).
    public var via: [Step] = []

    /// One state change as the timeline records it.
    public struct Step: Sendable, Equatable {
        public var to: String
        public var reason: String
        public var node: String?
        public var attempt: Int
    }

    public init(
        slot: Int, taskID: String, expected: [String], to: String, reason: String, node: String? = nil,
        attempt: Int = 0, queue: Queue = .none, ingestEntry: String? = nil, terminal: Bool = false,
        fields: [(String, String)] = []
    ) {
        self.slot = slot
        self.taskID = taskID
        self.expected = expected
        self.to = to
        self.reason = reason
        self.node = node
        self.attempt = attempt
        self.queue = queue
        self.ingestEntry = ingestEntry
        self.terminal = terminal
        self.fields = fields
    }
}

/// What Redis said about one transition.
public enum TransitionOutcome: Sendable, Equatable {
    /// Applied. `command`/`env` are the task's stored JSON, for building a dispatch;
    /// `createdMs` its submission time (for the submit→dispatch latency).
    case applied(previous: String, command: String, env: String, createdMs: Int64?)
    /// The task was in another state; nothing changed.
    case conflict(actual: String)
    /// The task record no longer exists.
    case missing
    /// The lease is not ours (any more): this shard must stop serving the slot.
    case fenced
    /// Any other script error.
    case failed(String)
}

/// Writes transitions through the fenced transition script: one call per slot, all of them in
/// one round trip.
public struct TransitionWriter: Sendable {
    public let redis: any RedisBackend
    public let leases: SlotLeases
    /// How long a finished task's record (with its packed timeline) is kept: the retention
    /// (`--retention-hours`, default 24 h).
    public var recordTTLMs: Int64 = TaskStore.defaultRetentionMs
    public var timelineTTLMs: Int64 = 24 * 3_600_000
    /// When a flush counts as written (`--redis-ack`): with replicas asked for, nothing reaches
    /// an agent (a dispatch, an ack) before a replica has it, so a failover cannot forget an
    /// attempt that runs.
    public var ack = ReplicaAck.local
    /// A finished task's timeline stream lives this long after its timeline was packed into
    /// the record, for watchers still reading it.
    static let finishedStreamGraceMs: Int64 = 60_000

    static let script = RedisScript(TransitionScript.source)

    public init(redis: any RedisBackend, leases: SlotLeases) {
        self.redis = redis
        self.leases = leases
    }

    /// Most transitions in one script call; bigger batches are split (Lua's unpack limit).
    static let maxBatch = 256

    /// Applies `requests` in one pipeline of script calls, one per slot (in the order of each
    /// slot's requests); a request for a slot whose lease is not held is answered `.fenced`
    /// without being sent.
    /// With replicas asked for (`ack`), throws `NOTREPLICATED` when none confirmed in time (the
    /// writes happened on the master); `write` hands back the outcomes in that case too.
    public func apply(_ requests: [TransitionRequest], nowMs: Int64) async throws -> [TransitionOutcome] {
        let written = try await write(requests, nowMs: nowMs)
        guard written.replicated else { throw ReplicaAck.notReplicated(written.confirmedReplicas, ack) }
        return written.outcomes
    }

    /// What a flush wrote: an outcome per request, and whether the replicas `ack` asks for
    /// confirmed it in time. Unconfirmed, the writes are on the master only: the caller holds
    /// everything that depends on them (`SchedulerDriver` waits on `replicasConfirm`).
    public struct Written: Sendable {
        public var outcomes: [TransitionOutcome]
        public var replicated: Bool
        /// The fewest replicas a `WAIT` counted (`Int.max` when none was asked for).
        public var confirmedReplicas: Int
        /// The slots written to: their `SlotKeys.replicationBarrier`s confirm them later.
        public var slots: [Int]
    }

    /// `apply`, without throwing when the replicas did not confirm in time.
    public func write(_ requests: [TransitionRequest], nowMs: Int64) async throws -> Written {
        let (merged, origins) = Self.coalesce(requests)
        let (mergedOutcomes, confirmed) = try await applyEach(merged, nowMs: nowMs)
        var outcomes = [TransitionOutcome](repeating: .fenced, count: requests.count)
        for (outcome, origin) in zip(mergedOutcomes, origins) {
            for index in origin { outcomes[index] = outcome }
        }
        var slots: [Int] = []
        var seen = Set<Int>()
        for request in requests where seen.insert(request.slot).inserted { slots.append(request.slot) }
        return Written(outcomes: outcomes, replicated: confirmed >= ack.replicas, confirmedReplicas: confirmed, slots: slots)
    }

    /// Folds each request into the earlier request of the same task when it follows from it
    /// (its expected states include the earlier one's new state): one script entry then makes
    /// both changes, with a timeline entry for each. Not across a dispatch (whose entry reads the
    /// task's command back) or an admission's ingest entry, nor after a terminal state. Returns
    /// the requests to send and, for each, the indices of the requests it stands for.
    public static func coalesce(_ requests: [TransitionRequest]) -> ([TransitionRequest], [[Int]]) {
        var merged: [TransitionRequest] = []
        var origins: [[Int]] = []
        var latest: [String: Int] = [:]
        for (index, request) in requests.enumerated() {
            if let at = latest[request.taskID], Self.follows(request, merged[at]) {
                var earlier = merged[at]
                earlier.via += [TransitionRequest.Step(to: earlier.to, reason: earlier.reason, node: earlier.node, attempt: earlier.attempt)]
                earlier.via += request.via
                earlier.to = request.to
                earlier.reason = request.reason
                earlier.node = request.node
                earlier.attempt = request.attempt
                if request.queue != .keep { earlier.queue = request.queue }
                earlier.terminal = request.terminal
                earlier.fields += request.fields
                merged[at] = earlier
                origins[at].append(index)
            } else {
                latest[request.taskID] = merged.count
                merged.append(request)
                origins.append([index])
            }
        }
        return (merged, origins)
    }

    private static func follows(_ later: TransitionRequest, _ earlier: TransitionRequest) -> Bool {
        later.slot == earlier.slot && !earlier.terminal && earlier.to != "DISPATCHED" && later.ingestEntry == nil
            && (later.expected.isEmpty || later.expected.contains(earlier.to))
    }

    private func applyEach(_ requests: [TransitionRequest], nowMs: Int64) async throws -> ([TransitionOutcome], confirmed: Int) {
        var outcomes = [TransitionOutcome](repeating: .fenced, count: requests.count)
        var bySlot: [Int: [Int]] = [:]
        var slotOrder: [Int] = []
        for (index, request) in requests.enumerated() {
            if bySlot[request.slot] == nil { slotOrder.append(request.slot) }
            bySlot[request.slot, default: []].append(index)
        }
        var calls: [ScriptCall] = []
        var members: [[Int]] = []
        for slot in slotOrder {
            guard let lease = leases.lease(forSlot: slot) else { continue }
            let indices = bySlot[slot] ?? []
            for start in stride(from: 0, to: indices.count, by: Self.maxBatch) {
                let chunk = Array(indices[start..<min(start + Self.maxBatch, indices.count)])
                calls.append(call(slot: slot, chunk.map { requests[$0] }, lease: lease, nowMs: nowMs))
                members.append(chunk)
            }
        }
        let (replies, confirmed) = try await redis.evaluateMany(Self.script, calls, awaiting: ack)
        for (chunk, reply) in zip(members, replies) {
            let results = Self.outcomes(reply, count: chunk.count)
            for (index, outcome) in zip(chunk, results) { outcomes[index] = outcome }
        }
        return (outcomes, confirmed)
    }

    private func call(slot: Int, _ requests: [TransitionRequest], lease: SlotLeases.Lease, nowMs: Int64) -> ScriptCall {
        let keys = SlotKeys(slot: slot)
        var scriptKeys = [keys.lease, keys.ready, keys.delayed, keys.inflight, keys.ingest, keys.live, keys.stored, keys.events]
        var arguments = [
            lease.value, leases.shardID, String(lease.epoch), String(nowMs), String(recordTTLMs), String(timelineTTLMs),
            String(requests.count), String(SlotKeys.eventsMaxLength), String(Self.finishedStreamGraceMs),
        ]
        for request in requests {
            scriptKeys += [keys.task(request.taskID), keys.timeline(request.taskID)]
            let (queue, score) = Self.queueArguments(request.queue)
            arguments += [
                request.taskID, request.expected.joined(separator: ","), request.to, request.reason, request.node ?? "",
                String(request.attempt), queue, score, request.ingestEntry ?? "", request.terminal ? "1" : "0",
                request.to == "DISPATCHED" ? "1" : "0", String(request.fields.count),
            ]
            for (field, value) in request.fields { arguments += [field, value] }
            arguments.append(String(request.via.count))
            for step in request.via { arguments += [step.to, step.reason, step.node ?? "", String(step.attempt)] }
        }
        return ScriptCall(keys: scriptKeys, arguments: arguments)
    }

    /// One script reply → one outcome per transition of its batch.
    static func outcomes(_ reply: RedisReply, count: Int) -> [TransitionOutcome] {
        if case .error(let message) = reply {
            let outcome: TransitionOutcome = message.hasPrefix("STALE_EPOCH") ? .fenced : .failed(message)
            return Array(repeating: outcome, count: count)
        }
        let results = reply.array ?? []
        guard results.count == count else {
            return Array(repeating: .failed("unexpected transition reply \(reply)"), count: count)
        }
        return results.map(outcome)
    }

    static func queueArguments(_ queue: TransitionRequest.Queue) -> (String, String) {
        switch queue {
        case .none: ("none", "0")
        case .keep: ("keep", "0")
        case .ready(let score): ("ready", String(score))
        case .delayed(let due): ("delayed", String(due))
        case .inflight(let deadline): ("inflight", String(deadline))
        case .parked: ("delayed", "+inf")
        }
    }

    static func outcome(_ reply: RedisReply) -> TransitionOutcome {
        let parts = reply.array?.map { $0.string ?? "" } ?? []
        switch parts.first {
        case "ok" where parts.count >= 4:
            return .applied(
                previous: parts[1], command: parts[2].isEmpty ? "[]" : parts[2], env: parts[3].isEmpty ? "{}" : parts[3],
                createdMs: parts.count > 4 ? Int64(parts[4]) : nil)
        case "conflict" where parts.count >= 2: return .conflict(actual: parts[1])
        case "missing": return .missing
        default: return .failed("unexpected transition reply \(reply)")
        }
    }
}
