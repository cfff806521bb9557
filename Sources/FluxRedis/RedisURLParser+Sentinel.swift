/// The Sentinel form of the URL:
///
///     redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/<master-name>[/<db>][?sentinel-password=<password>]
///
/// - the hosts are sentinels (port 26379 when omitted; IPv6 in brackets), asked in this order;
/// - `user` and `password` are the data nodes' (`AUTH` on the master), as in `redis://`;
/// - `<master-name>` is the name in the sentinels' `sentinel monitor <name> …` (percent-decoded:
///   escape `/`, `@`, `?`, `#` and `%` in it);
/// - `<db>` is the database on the master (0 when omitted);
/// - `sentinel-password` (percent-decoded) is sent as `AUTH <password>` to the sentinels, for
///   sentinels with `requirepass`; without it they get no `AUTH`.
///
/// TLS through Sentinel is not supported (no `rediss-sentinel://`, no `?ca=`).
extension RedisURLParser {
    static func parseSentinel(_ text: Substring) throws(RedisError) -> Parts {
        var parts = Parts(host: "")
        var rest = text
        var sentinelPassword: String?
        if let query = rest.firstIndex(of: "?") {
            sentinelPassword = try parseSentinelQuery(rest[rest.index(after: query)...])
            rest = rest[..<query]
        }
        if let at = rest.lastIndex(of: "@") {
            try parseUserInfo(rest[..<at], into: &parts)
            rest = rest[rest.index(after: at)...]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw .invalidURL("missing '/<master-name>' after the sentinels")
        }
        let sentinels = try parseSentinelList(rest[..<slash])
        let (masterName, database) = try parseMasterPath(rest[rest.index(after: slash)...])
        parts.host = sentinels[0].host
        parts.port = sentinels[0].port
        parts.database = database
        parts.sentinel = RedisSentinelConfiguration(sentinels: sentinels, masterName: masterName, password: sentinelPassword)
        return parts
    }

    /// `host[:port],host[:port],…`: at least one, none empty.
    private static func parseSentinelList(_ list: Substring) throws(RedisError) -> [RedisSentinelConfiguration.Address] {
        var sentinels: [RedisSentinelConfiguration.Address] = []
        for entry in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard !entry.isEmpty else {
                throw .invalidURL(list.isEmpty ? "missing sentinel host" : "empty sentinel address in the comma-separated list")
            }
            let (host, port) = try parseAuthority(entry, defaultPort: 26_379)
            sentinels.append(RedisSentinelConfiguration.Address(host: host, port: port))
        }
        return sentinels
    }

    /// `<master-name>[/<db>]`.
    private static func parseMasterPath(_ path: Substring) throws(RedisError) -> (name: String, database: Int) {
        let nameEnd = path.firstIndex(of: "/") ?? path.endIndex
        let name = try percentDecode(path[..<nameEnd], field: "master name")
        guard !name.isEmpty else { throw .invalidURL("missing master name after the sentinels ('/<master-name>')") }
        guard !name.contains(where: \.isWhitespace) else { throw .invalidURL("master name contains whitespace") }
        return (name, try parseDatabase(path[nameEnd...]))
    }

    /// The one query parameter: `sentinel-password=<password>`.
    private static func parseSentinelQuery(_ query: Substring) throws(RedisError) -> String {
        let key = "sentinel-password="
        guard query.hasPrefix(key), !query.contains("&") else {
            throw .invalidURL("the only query parameter of 'redis-sentinel://' is 'sentinel-password=<password>'")
        }
        let password = try percentDecode(query.dropFirst(key.count), field: "sentinel-password")
        guard !password.isEmpty else { throw .invalidURL("empty 'sentinel-password='") }
        return password
    }
}
