/// Where and how to connect. Usually built from a `redis://` URL (`init(url:)`); every field is
/// a plain `var` so callers can adjust pool size and timeouts after parsing.
public struct RedisConfiguration: Sendable, Hashable {
    /// Host name or IP address (IPv6 without brackets). With `sentinel` set, the first sentinel's:
    /// the master's address is asked of the sentinels at every connect instead.
    public var host: String
    /// TCP port; 6379 unless the URL names one. With `sentinel` set, the first sentinel's.
    public var port: Int
    /// Sentinel mode (`redis-sentinel://`): connections go to the master the sentinels name, and
    /// only if it answers `ROLE` as a master. Nil means `host`/`port` is the server.
    /// Credentials, database, pool size, timeouts and TLS below apply to the data nodes.
    public var sentinel: RedisSentinelConfiguration?
    /// ACL user for `AUTH user password`; nil means `AUTH password` (the `default` user).
    public var username: String?
    /// Password for `AUTH`; nil means no `AUTH` is sent.
    public var password: String?
    /// Database selected with `SELECT` after connecting (0 is not selected explicitly).
    public var database: Int
    /// Number of connections a `RedisClient` spreads commands across.
    public var poolSize: Int
    /// Upper bound on establishing the TCP connection.
    public var connectTimeout: Duration
    /// Upper bound on waiting for any one reply (or batch of replies); a timed-out command
    /// fails with `timeout` and its late reply is discarded.
    public var commandTimeout: Duration
    /// First delay before reconnecting after a failed connect; doubles on each failure.
    public var reconnectBackoffMinimum: Duration
    /// Cap on the reconnect delay, so a returning server is noticed within this long.
    public var reconnectBackoffMaximum: Duration
    /// TLS on every connection (`rediss://`): NIOSSL on the channel, hiredis still only parses
    /// RESP. The server's certificate must chain to `tlsCAFile` (or the system's roots) and name
    /// the host (an IP address is checked against the certificate's IP SANs).
    public var tls: Bool
    /// PEM file of the CA the server's certificate must chain to (`?ca=` in the URL).
    public var tlsCAFile: String?

    /// A configuration with defaults for everything but the address.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        poolSize = 4
        connectTimeout = .seconds(5)
        commandTimeout = .seconds(5)
        reconnectBackoffMinimum = .milliseconds(50)
        reconnectBackoffMaximum = .seconds(2)
        tls = false
        tlsCAFile = nil
        sentinel = nil
    }

    /// Parses `redis://[user:password@]host[:port][/db]` (user and password percent-decoded;
    /// `redis://:password@host` for password only), or `rediss://…[?ca=<PEM CA file>]` for TLS,
    /// or `redis-sentinel://[user:password@]host[:port][,host[:port]…]/<master-name>[/db][?sentinel-password=…]`
    /// for Sentinel (the hosts are sentinels, default port 26379; user and password are the data
    /// nodes'; see `RedisURLParser+Sentinel.swift`). Throws `RedisError` code `invalidURL`
    /// naming the problem, never echoing the URL (it may hold a password).
    public init(url: String) throws(RedisError) {
        let parts = try RedisURLParser(url).parse()
        self.init(
            host: parts.host,
            port: parts.port,
            username: parts.username,
            password: parts.password,
            database: parts.database
        )
        tls = parts.tls
        tlsCAFile = parts.caFile
        sentinel = parts.sentinel
    }

    /// What this configuration connects to, for logs (no credentials): `host:port`, or
    /// `sentinel master <name> via host:port,…`.
    public var endpointDescription: String {
        guard let sentinel else { return "\(host):\(port)" }
        return "sentinel master \(sentinel.masterName) via \(sentinel.sentinels.map(\.description).joined(separator: ","))"
    }
}
