/// The address of one cluster node, as the cluster itself announces it (`CLUSTER SHARDS`,
/// `MOVED`, `ASK`). The cluster client keys its per-node pools by it.
public struct RedisClusterEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address, as announced (IPv6 without brackets).
    public var host: String
    /// TCP port of the node's client port.
    public var port: Int

    /// An endpoint from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, the form Redis uses in `MOVED` and `ASK`.
    public var description: String { "\(host):\(port)" }

    /// Parses Redis's `host:port` (split at the last colon, so an IPv6 host such as `::1:6379`
    /// works). An empty host means "the node that answered" (Redis sends `:6380` when it does
    /// not know its own address): `fallbackHost` fills it. Nil if the port is not a port.
    init?(parsing text: Substring, fallbackHost: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65_535).contains(port)
        else { return nil }
        let host = text[..<colon]
        self.init(host: host.isEmpty ? fallbackHost : String(host), port: port)
    }
}
