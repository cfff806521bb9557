import Synchronization

/// A Lua script run with `EVALSHA`. Its SHA1 comes from `SCRIPT LOAD` the first time it runs
/// and is cached here, so later calls send only the hash (the SHA1 of the source, the same on
/// every node). If the node forgot the script or never had it (`SCRIPT FLUSH`, a restart, a
/// failover, another cluster node) the `NOSCRIPT` reply triggers one `EVAL` with the source on
/// that same node, so callers never see it. Create scripts once (e.g. as `static let`) and share them.
public final class RedisScript: Sendable, CustomStringConvertible {
    /// The Lua source, sent with `SCRIPT LOAD`.
    public let source: String
    private let cachedSHA = Mutex<String?>(nil)

    /// Wraps Lua source; nothing is sent until the script is first evaluated.
    public init(_ source: String) {
        self.source = source
    }

    /// The SHA1 the server reported for this script, once loaded.
    public var sha: String? { cachedSHA.withLock { $0 } }

    /// Shows the SHA (never the source, which can be long).
    public var description: String { "RedisScript(\(sha ?? "not loaded"))" }

    /// Loads the script with `SCRIPT LOAD` on `sender` and caches the SHA it returns.
    @discardableResult
    public func load(on sender: some RedisCommandSender) async throws(RedisError) -> String {
        let reply = try await sender.send(RedisCommand("SCRIPT", "LOAD", source))
        guard let sha = reply.string else {
            throw RedisError(code: .protocolError, message: "SCRIPT LOAD returned \(reply)")
        }
        cachedSHA.withLock { $0 = sha }
        return sha
    }

    /// A command running this script, for use inside `pipeline`: `EVALSHA` once the SHA is
    /// known, otherwise `EVAL` with the source (which also loads it on the server). A pipeline
    /// gets no automatic `NOSCRIPT` retry: that reply comes back as an `.error` element.
    public func command(keys: [String] = [], arguments: [any RedisArgument] = []) -> RedisCommand {
        if let sha { return evalsha(sha, keys: keys, arguments: arguments) }
        return eval(keys: keys, arguments: arguments)
    }

    /// `EVAL` with the source: runs the script and caches it on the node that runs it.
    func eval(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var command = RedisCommand("EVAL", source, keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }

    func evalsha(_ sha: String, keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha, keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }
}

extension RedisCommandSender {
    /// Runs `script` with `EVALSHA`, loading it first if needed. If the node that runs it answers
    /// `NOSCRIPT` (a `SCRIPT FLUSH`, a restart, a failover, or, on a cluster, a node the script was
    /// never loaded on), it is sent once more as `EVAL` with its source: routed like the
    /// `EVALSHA` (by its first key), so the very node that lacked the script runs and caches it.
    /// Errors raised by the script throw as `server` errors.
    public func evaluate(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [any RedisArgument] = []
    ) async throws(RedisError) -> RedisReply {
        let sha: String
        if let cached = script.sha { sha = cached } else { sha = try await script.load(on: self) }
        do {
            return try await send(script.evalsha(sha, keys: keys, arguments: arguments))
        } catch where error.serverErrorPrefix == "NOSCRIPT" {
            return try await send(script.eval(keys: keys, arguments: arguments))
        }
    }
}
