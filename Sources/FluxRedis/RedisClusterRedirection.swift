/// A cluster node's answer "not here": `MOVED <slot> <host:port>` (the slot lives on another
/// master now: update the routing table) or `ASK <slot> <host:port>` (the slot is migrating and
/// this key is already on the target: ask there once, after `ASKING`, and change nothing).
/// Either way the command did not run on the node that answered.
public enum RedisClusterRedirection: Sendable, Hashable {
    /// The slot is served by `endpoint` from now on.
    case moved(slot: Int, endpoint: RedisClusterEndpoint)
    /// Send this one command to `endpoint`, preceded by `ASKING` on the same connection.
    case ask(slot: Int, endpoint: RedisClusterEndpoint)

    /// Parses an error reply's text; nil if it is not a well-formed `MOVED` or `ASK`.
    /// `replyingHost` fills an empty host (`MOVED 3999 :6381`), which Redis sends when the
    /// target's address is unknown and means "the same host as the node that answered".
    public init?(errorText: String, replyingHost: String = "127.0.0.1") {
        let words = errorText.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 3, let slot = Int(words[1]), (0..<RedisHashSlot.count).contains(slot),
              let endpoint = RedisClusterEndpoint(parsing: words[2], fallbackHost: replyingHost)
        else { return nil }
        switch words[0] {
        case "MOVED": self = .moved(slot: slot, endpoint: endpoint)
        case "ASK": self = .ask(slot: slot, endpoint: endpoint)
        default: return nil
        }
    }

    /// The node the redirection names.
    public var endpoint: RedisClusterEndpoint {
        switch self {
        case .moved(_, let endpoint), .ask(_, let endpoint): endpoint
        }
    }
}
