public import Logging

/// Builds the client a `--redis` URL names, so a process decides once whether it talks to one
/// server or to a Redis Cluster:
///
/// - `redis://…` and `rediss://…` (docs of `RedisConfiguration(url:)`): one server, `RedisClient`;
/// - `redis-cluster://[user:password@]host:port[,host:port…][?ca=…]`: a Redis Cluster, reached
///   through the listed seed nodes (any of them; the client learns the rest), `RedisClusterClient`.
///   `rediss-cluster://` is the same over TLS. There is no database number: a cluster has one.
public enum RedisBackends {
    /// The client for `url`; throws `RedisError` code `invalidURL` for bad input.
    public static func make(url: String, logger: Logger) throws(RedisError) -> any RedisBackend {
        if let seeds = try clusterSeeds(url) {
            return RedisClusterClient(seeds: seeds, logger: logger)
        }
        return RedisClient(configuration: try RedisConfiguration(url: url), logger: logger)
    }

    /// `url` without its credentials (user and password, and the query, which may carry a
    /// `sentinel-password`), for logs.
    public static func redacted(_ url: String) -> String {
        let bare = String(url.prefix { $0 != "?" })
        let parts = bare.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let colon = parts[0].firstIndex(of: ":"), parts[0][colon...].hasPrefix("://") else { return bare }
        return String(parts[0][..<colon]) + "://" + parts[1]
    }

    /// The seeds of a `redis-cluster://` URL, or nil for any other scheme.
    public static func clusterSeeds(_ url: String) throws(RedisError) -> [RedisConfiguration]? {
        let schemes = [("redis-cluster://", "redis://"), ("rediss-cluster://", "rediss://")]
        guard let (scheme, single) = schemes.first(where: { url.hasPrefix($0.0) }) else { return nil }
        var rest = url.dropFirst(scheme.count)
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[mark...])
            rest = rest[..<mark]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else {
            throw RedisError(code: .invalidURL, message: "a redis-cluster:// URL names no database (a cluster has only database 0): \(redacted(url))")
        }
        var credentials = ""
        if let at = rest.lastIndex(of: "@") {
            credentials = String(rest[...at])
            rest = rest[rest.index(after: at)...]
        }
        let hosts = rest.split(separator: ",", omittingEmptySubsequences: false)
        guard !hosts.isEmpty, hosts.allSatisfy({ !$0.isEmpty }) else {
            throw RedisError(code: .invalidURL, message: "a redis-cluster:// URL lists host:port seeds separated by commas: \(redacted(url))")
        }
        var seeds: [RedisConfiguration] = []
        for host in hosts { seeds.append(try RedisConfiguration(url: single + credentials + host + "/0" + query)) }
        return seeds
    }
}
