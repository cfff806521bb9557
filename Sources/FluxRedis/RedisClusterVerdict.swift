/// What the cluster client does with the outcome of one attempt at a command, decided without
/// I/O so the rules can be read (and tested) in one place. The rule that matters: a command is
/// tried again only when it certainly did not run.
///
/// | Outcome | Ran? | Verdict |
/// |---------|------|---------|
/// | a reply, or an error reply not listed below | yes | `done`: the caller gets it |
/// | `MOVED slot host:port` | no | `redirect`: refresh the topology, try the named master |
/// | `ASK slot host:port` | no | `redirect`: `ASKING` + the command on the named node, once |
/// | `CLUSTERDOWN`, `TRYAGAIN`, `LOADING`, `READONLY`, `MASTERDOWN` | no | `retry`: back off, refresh, try again |
/// | `connectionRefused`, `connectionLost` or `timeout` with `wasNeverSent` | no | `retry` |
/// | `connectionLost` or `timeout` after the command was written | unknown | `fail`: the caller decides |
/// | anything else (`closed`, `cancelled`, a protocol error, …) | — | `fail` |
///
/// `READONLY` means the node was demoted to a replica (a failover happened), `LOADING` that a
/// restarted or promoted node is still loading its data: both refuse before running anything.
enum RedisClusterVerdict: Sendable, Hashable {
    case done
    case redirect(RedisClusterRedirection)
    /// The command did not run and the cluster is changing: retry after a backoff and a refresh.
    case retry
    /// Give the error to the caller as it is.
    case fail

    /// Error-reply prefixes that mean "not run, try again later".
    static let transientPrefixes: Set<Substring> = ["CLUSTERDOWN", "TRYAGAIN", "LOADING", "READONLY", "MASTERDOWN"]

    /// The verdict on one attempt. Error replies arrive as `.success(.error(text))`; the
    /// endpoint's host fills a `MOVED`/`ASK` that names no host.
    init(_ outcome: Result<RedisReply, RedisError>, replyingHost: String) {
        switch outcome {
        case .success(.error(let text)):
            self = Self.judge(errorReply: text, replyingHost: replyingHost)
        case .success:
            self = .done
        case .failure(let error):
            let unsent = error.wasNeverSent && [.connectionRefused, .connectionLost, .timeout].contains(error.code)
            self = unsent ? .retry : .fail
        }
    }

    private static func judge(errorReply text: String, replyingHost: String) -> RedisClusterVerdict {
        if let redirection = RedisClusterRedirection(errorText: text, replyingHost: replyingHost) {
            return .redirect(redirection)
        }
        let prefix = text.prefix { $0 != " " }
        return transientPrefixes.contains(prefix) ? .retry : .done
    }
}
