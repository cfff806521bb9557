public import FluxRedis

/// Runs one Lua script many times in a single pipelined write (EVALSHA × N).
///
/// The fenced transition and lease scripts run hundreds of times per scheduler tick; one round
/// trip for all of them is what keeps Redis cost per task low. A `NOSCRIPT` reply (Redis was
/// restarted or flushed) means that call did not run, so only those calls are retried after
/// the script is sent again with its source (`EVAL`), to the node that lacked it: on a Redis
/// Cluster a node may never have seen the script, and `SCRIPT LOAD`, which names no key, would
/// load it on another node.
public struct ScriptCall: Sendable {
    public var keys: [String]
    public var arguments: [String]
    public init(keys: [String], arguments: [String]) {
        self.keys = keys
        self.arguments = arguments
    }
}

/// When a write counts as done (`--redis-ack`, docs/failure-scenarios.md): when the master has
/// it (`local`, Redis's default: a master that dies may take its last writes with it), or once
/// `replicas` of its replicas have it too (`WAIT`, in the same pipeline, so on the connection
/// that wrote), at most `timeoutMs` later.
public struct ReplicaAck: Sendable, Hashable {
    public var replicas: Int
    public var timeoutMs: Int

    public init(replicas: Int, timeoutMs: Int) {
        self.replicas = replicas
        self.timeoutMs = timeoutMs
    }

    /// The master's word is enough.
    public static let local = ReplicaAck(replicas: 0, timeoutMs: 0)

    /// The error a write not confirmed in time throws: a `server` error starting `NOTREPLICATED`.
    /// The write did happen on the master; it may or may not survive the master's death.
    public static func notReplicated(_ acknowledged: Int, _ ack: ReplicaAck) -> RedisError {
        RedisError(code: .server, message: "NOTREPLICATED \(acknowledged) of \(ack.replicas) replicas confirmed the write within \(ack.timeoutMs) ms")
    }
}

extension RedisCommandSender {
    /// Runs `script` once per call, in order, in one pipeline; replies come back in call order,
    /// script errors as `.error` elements.
    public func evaluateMany(_ script: RedisScript, _ calls: [ScriptCall]) async throws -> [RedisReply] {
        try await evaluateMany(script, calls) { try await (pipeline($0), 0) }.replies
    }

    /// The one way scripts run many times: `EVALSHA` for every call through `send`, then `EVAL`
    /// with the source for the calls a node answered `NOSCRIPT`; `confirmed` is the fewest of
    /// what `send` reported for the two rounds.
    func evaluateMany(
        _ script: RedisScript, _ calls: [ScriptCall], send: ([RedisCommand]) async throws -> (replies: [RedisReply], confirmed: Int)
    ) async throws -> (replies: [RedisReply], confirmed: Int) {
        guard !calls.isEmpty else { return ([], .max) }
        let sha: String
        if let cached = script.sha { sha = cached } else { sha = try await script.load(on: self) }
        var (replies, confirmed) = try await send(calls.map { Self.evalsha(sha, $0) })
        let missing = replies.indices.filter { replies[$0].isNoScript }
        if !missing.isEmpty {
            let retried = try await send(missing.map { Self.eval(script.source, calls[$0]) })
            for (index, reply) in zip(missing, retried.replies) { replies[index] = reply }
            confirmed = min(confirmed, retried.confirmed)
        }
        return (replies, confirmed)
    }

    static func eval(_ source: String, _ call: ScriptCall) -> RedisCommand {
        var command = RedisCommand("EVAL", source, String(call.keys.count))
        for key in call.keys { command.append(key) }
        for argument in call.arguments { command.append(argument) }
        return command
    }

    static func evalsha(_ sha: String, _ call: ScriptCall) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha, String(call.keys.count))
        for key in call.keys { command.append(key) }
        for argument in call.arguments { command.append(argument) }
        return command
    }
}

extension RedisReply {
    var isNoScript: Bool {
        if case .error(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}

extension RedisBackend {
    /// `evaluateMany`, counted done only when `ack` is met: with replicas asked for, a `WAIT`
    /// follows the calls on the connection that wrote them (each master's, on a cluster), and
    /// fewer confirmations than asked throw `NOTREPLICATED` (the writes happened on the master).
    public func evaluateMany(_ script: RedisScript, _ calls: [ScriptCall], ack: ReplicaAck) async throws -> [RedisReply] {
        let (replies, confirmed) = try await evaluateMany(script, calls, awaiting: ack)
        guard confirmed >= ack.replicas else { throw ReplicaAck.notReplicated(confirmed, ack) }
        return replies
    }

    /// `evaluateMany` with a `WAIT` behind each master's part when `ack` asks for replicas:
    /// the replies, and how many replicas confirmed them (the fewest over the parts). A caller
    /// that can hold its results until a replica catches up (the scheduler's flush) uses this.
    public func evaluateMany(
        _ script: RedisScript, _ calls: [ScriptCall], awaiting ack: ReplicaAck
    ) async throws -> (replies: [RedisReply], confirmed: Int) {
        guard ack.replicas > 0 else { return (try await evaluateMany(script, calls), .max) }
        return try await evaluateMany(script, calls) {
            try await pipeline($0, waitingForReplicas: ack.replicas, timeoutMs: ack.timeoutMs)
        }
    }

    /// Whether `ack.replicas` replicas have everything written so far to the masters serving
    /// `keys`: one write to each key, then a `WAIT` behind it. A master's replication stream is
    /// ordered, so a later write confirmed confirms every earlier one, from any connection.
    /// The keys are expiring markers (`SlotKeys.replicationBarrier`).
    public func replicasConfirm(_ ack: ReplicaAck, barrierKeys keys: [String], marker: String) async throws -> Bool {
        guard ack.replicas > 0, !keys.isEmpty else { return true }
        let writes = keys.map { RedisCommand("SET", $0, marker, "PX", "60000") }
        let (_, confirmed) = try await pipeline(writes, waitingForReplicas: ack.replicas, timeoutMs: ack.timeoutMs)
        return confirmed >= ack.replicas
    }
}
