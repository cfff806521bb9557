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

extension RedisCommandSender {
    /// Runs `script` once per call, in order, in one pipeline; replies come back in call order,
    /// script errors as `.error` elements.
    public func evaluateMany(_ script: RedisScript, _ calls: [ScriptCall]) async throws -> [RedisReply] {
        guard !calls.isEmpty else { return [] }
        let sha: String
        if let cached = script.sha { sha = cached } else { sha = try await script.load(on: self) }
        var replies = try await pipeline(calls.map { Self.evalsha(sha, $0) })
        let missing = replies.indices.filter { replies[$0].isNoScript }
        if !missing.isEmpty {
            let retried = try await pipeline(missing.map { Self.eval(script.source, calls[$0]) })
            for (index, reply) in zip(missing, retried) { replies[index] = reply }
        }
        return replies
    }

    private static func eval(_ source: String, _ call: ScriptCall) -> RedisCommand {
        var command = RedisCommand("EVAL", source, String(call.keys.count))
        for key in call.keys { command.append(key) }
        for argument in call.arguments { command.append(argument) }
        return command
    }

    private static func evalsha(_ sha: String, _ call: ScriptCall) -> RedisCommand {
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
