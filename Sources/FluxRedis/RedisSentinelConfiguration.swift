/// Where to find the master when it is not at a fixed address: a Redis Sentinel deployment.
///
/// The sentinels are asked for the master of `masterName` before every connect (pooled or
/// dedicated), so a client follows a failover by reconnecting; the node they name is used only
/// if it answers `ROLE` as a master (see `RedisSentinelResolver`). Usually built from a
/// `redis-sentinel://` URL (`RedisConfiguration(url:)`).
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// One sentinel's address.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        /// Host name or IP address (IPv6 without brackets).
        public var host: String
        /// The sentinel's port; 26379 unless the URL names one.
        public var port: Int

        /// An address from its parts.
        public init(host: String, port: Int = 26_379) {
            self.host = host
            self.port = port
        }

        /// `host:port`, for logs and error messages.
        public var description: String { "\(host):\(port)" }
    }

    /// The sentinels, asked in this order; the first that names a master wins.
    public var sentinels: [Address]
    /// The name the sentinels monitor the master under (`sentinel monitor <name> …`).
    public var masterName: String
    /// Password for `AUTH` on the sentinels (their `requirepass`); nil sends no `AUTH`. The data
    /// nodes' credentials are the `RedisConfiguration`'s own.
    public var password: String?
    /// Upper bound on connecting to one sentinel, and again on its answer: a sentinel that is down
    /// or slow costs at most twice this before the next one is asked.
    public var timeout: Duration

    /// A configuration asking `sentinels` for `masterName`'s master, with a 1 s bound per sentinel.
    public init(sentinels: [Address], masterName: String, password: String? = nil, timeout: Duration = .seconds(1)) {
        precondition(!sentinels.isEmpty, "Sentinel mode needs at least one sentinel")
        self.sentinels = sentinels
        self.masterName = masterName
        self.password = password
        self.timeout = timeout
    }
}
