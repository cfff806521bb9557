/// Where the cluster client sends a command: to the master owning a slot, or to any master for
/// a command that names no key. Computed from the command alone, without I/O.
public enum RedisClusterRoute: Sendable, Hashable {
    /// The master that owns this hash slot (0 ..< 16384).
    case slot(Int)
    /// Any master: the command names no key (`PING`, `INFO`, `SCRIPT LOAD`, `CLUSTER …`,
    /// `EVAL` with no keys). `RedisClusterClient` sends these to the master owning slot 0.
    case anyMaster
}

/// Where a command's key is, so the cluster client can route it. Redis's `COMMAND GETKEYS` knows
/// every command; this knows the ones FluxForge sends, and says so:
///
/// - keyless, routed to any master: `PING ECHO INFO SCRIPT CLUSTER CONFIG CLIENT COMMAND FUNCTION
///   TIME DBSIZE FLUSHALL FLUSHDB SELECT AUTH HELLO READONLY READWRITE ASKING WAIT KEYS SCAN
///   RANDOMKEY MULTI EXEC DISCARD UNWATCH PUBLISH SLOWLOG LATENCY ROLE ACL MODULE` and more
///   server commands (see `keyless`);
/// - `EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO`: the first key when numkeys > 0, else keyless;
/// - `LMPOP ZMPOP SINTERCARD ZINTERCARD ZDIFF ZINTER ZUNION` (numkeys first) and
///   `BLMPOP BZMPOP` (timeout, then numkeys): the first key;
/// - `XREAD`, `XREADGROUP`: the first key after `STREAMS`;
/// - `XGROUP XINFO OBJECT MEMORY` (a subcommand first): the argument after the subcommand,
///   keyless when there is none (`XINFO HELP`, `MEMORY STATS`);
/// - every other command, known or not: its first argument (keyless if it has none).
///
/// A multi-key command is routed by its first key only. Keys in different slots get
/// `CROSSSLOT` from the server, which the caller sees; use `{hash tags}` to keep them together.
extension RedisCommand {
    /// The key that decides where this command runs; nil for a keyless command.
    public var routingKey: ArraySlice<UInt8>? {
        let name = self.name
        if Self.keyless.contains(name) { return nil }
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            return key(afterNumkeysAt: 2)
        case "LMPOP", "ZMPOP", "SINTERCARD", "ZINTERCARD", "ZDIFF", "ZINTER", "ZUNION":
            return key(afterNumkeysAt: 1)
        case "BLMPOP", "BZMPOP":
            return key(afterNumkeysAt: 2)
        case "XREAD":
            return key(afterStreamsFrom: 1)
        case "XREADGROUP":
            return key(afterStreamsFrom: 4)  // after GROUP <group> <consumer>, which may be any text
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            return argumentCount > 2 ? argument(2) : nil
        default:
            return argumentCount > 1 ? argument(1) : nil
        }
    }

    /// Where `RedisClusterClient` sends this command: the slot of `routingKey`, or any master.
    public var clusterRoute: RedisClusterRoute {
        routingKey.map { .slot(RedisHashSlot.slot(forKey: $0)) } ?? .anyMaster
    }

    /// The argument after a numkeys argument at `index`, when numkeys is a positive integer.
    private func key(afterNumkeysAt index: Int) -> ArraySlice<UInt8>? {
        guard index + 1 < argumentCount,
              let numkeys = Int(String(decoding: argument(index), as: UTF8.self)), numkeys > 0
        else { return nil }
        return argument(index + 1)
    }

    /// The argument after the first `STREAMS` token at or after `start`.
    private func key(afterStreamsFrom start: Int) -> ArraySlice<UInt8>? {
        var index = start
        while index + 1 < argumentCount {
            if String(decoding: argument(index), as: UTF8.self).uppercased() == "STREAMS" { return argument(index + 1) }
            index += 1
        }
        return nil
    }

    /// Commands that name no key (server, connection and scripting administration).
    static let keyless: Set<String> = [
        "PING", "ECHO", "INFO", "SCRIPT", "CLUSTER", "CONFIG", "CLIENT", "COMMAND", "FUNCTION",
        "TIME", "DBSIZE", "FLUSHALL", "FLUSHDB", "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF",
        "SELECT", "AUTH", "HELLO", "READONLY", "READWRITE", "ASKING", "WAIT", "KEYS", "SCAN",
        "RANDOMKEY", "MULTI", "EXEC", "DISCARD", "UNWATCH", "PUBLISH", "SLOWLOG", "LATENCY",
        "ROLE", "ACL", "MODULE", "DEBUG", "SWAPDB", "QUIT", "RESET", "MONITOR", "SHUTDOWN",
        "REPLICAOF", "SLAVEOF", "LOLWUT",
    ]
}
