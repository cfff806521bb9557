public import FluxRedis
import Synchronization

/// Hands each test its own, freshly flushed Redis database on the shared test server, for
/// tests whose keys are fixed by the product's schema (`ff:{sN}:…`) and so cannot be prefixed.
///
/// `cluster/test` starts the server with 256 databases. Databases 0…15 are left to tests that
/// pick their own (with unique key prefixes); 16…255 are handed out here, once per test process.
public enum TestDatabase {
    private static let next = Atomic<Int>(16)
    public static let count = 256

    /// A configuration for a database no other test of this process uses, flushed empty.
    public static func isolated() async throws -> RedisConfiguration {
        let number = next.wrappingAdd(1, ordering: .relaxed).oldValue
        guard number < count else {
            throw RedisError(code: .server, message: "test databases exhausted: raise --databases in cluster/test")
        }
        let configuration = try TestRedis.configuration(database: number)
        let connection = try await RedisConnection.connect(configuration: configuration)
        _ = try await connection.send(RedisCommand("FLUSHDB"))
        await connection.close()
        return configuration
    }

    /// The `redis://host:port/N` URL of an isolated database, for processes a test starts
    /// (`redis-sentinel://s1,s2,…/<master>/N` for a configuration in Sentinel mode).
    public static func url(of configuration: RedisConfiguration) -> String {
        // Test credentials are plain hex or words: no percent-encoding needed.
        let credentials = configuration.password.map { "\(configuration.username ?? ""):\($0)@" } ?? ""
        if let sentinel = configuration.sentinel {
            let sentinels = sentinel.sentinels.map { "\($0.host):\($0.port)" }.joined(separator: ",")
            let password = sentinel.password.map { "?sentinel-password=\($0)" } ?? ""
            return "redis-sentinel://\(credentials)\(sentinels)/\(sentinel.masterName)/\(configuration.database)\(password)"
        }
        let scheme = configuration.tls ? "rediss" : "redis"
        let ca = configuration.tlsCAFile.map { "?ca=\($0)" } ?? ""
        return "\(scheme)://\(credentials)\(configuration.host):\(configuration.port)/\(configuration.database)\(ca)"
    }
}
