public import FluxRedis

/// The shared throwaway Redis that integration tests run against. `cluster/test` starts it and
/// exports its URL; without that variable the tests fail loudly instead of skipping, so a green
/// run always means the Redis paths were exercised.
public enum TestRedis {
    /// Name of the environment variable holding the test server's `redis://` URL.
    public static let environmentVariable = "FLUXFORGE_TEST_REDIS_URL"

    /// Why a test could not get a Redis URL. Thrown (so the test fails) rather than skipped.
    public struct MissingURL: Error, CustomStringConvertible {
        /// Says what is missing and how to run the tests properly.
        public let description = "\(TestRedis.environmentVariable) is not set: run the tests through "
            + "cluster/test, which starts a throwaway redis-server"
    }

    /// The test server's URL, from `environment` (the process environment by default).
    /// Throws `MissingURL` with a clear message when it is missing or empty.
    public static func url(environment: [String: String]? = nil) throws -> String {
        let environment = environment ?? ProcessEnvironment.current
        guard let url = environment[environmentVariable], !url.isEmpty else { throw MissingURL() }
        return url
    }

    /// The test server's configuration, optionally with a different database number.
    public static func configuration(database: Int? = nil) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url())
        if let database { configuration.database = database }
        configuration.commandTimeout = .seconds(10)
        return configuration
    }

    /// A key prefix no other test (or earlier run) uses, so tests sharing one server never
    /// collide: `test:<name>:<random>:`.
    public static func uniquePrefix(_ name: String = #function) -> String {
        let tag = name.prefix { $0 != "(" }
        return "test:\(tag):\(UInt64.random(in: 0...UInt64.max)):"
    }
}
