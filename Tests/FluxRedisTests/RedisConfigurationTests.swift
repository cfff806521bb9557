import FluxRedis
import FluxTesting
import Testing

@Suite("redis:// URL parsing")
struct RedisConfigurationTests {
    @Test func fullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:p%40ss%3Aw0rd@cache.internal:6380/3")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "p@ss:w0rd")
        #expect(configuration.database == 3)
        #expect(configuration.poolSize == 4)
        #expect(configuration.commandTimeout == .seconds(5))
        #expect(configuration.reconnectBackoffMinimum == .milliseconds(50))
        #expect(configuration.reconnectBackoffMaximum == .seconds(2))
    }

    @Test func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 6379)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(configuration.database == 0)
    }

    @Test func passwordOnlyAndIPv6() throws {
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1:7000/")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
        #expect(passwordOnly.port == 7000)
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:6390/1")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 6390)
        #expect(ipv6.database == 1)
    }

    @Test func redissURLsAskForTLSAndMayNameTheCA() throws {
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(!plain.tls && plain.tlsCAFile == nil)
        let secure = try RedisConfiguration(url: "rediss://user:pw@127.0.0.1:6380/2?ca=/etc/ca%20dir/ca.crt")
        #expect(secure.tls && secure.tlsCAFile == "/etc/ca dir/ca.crt")
        #expect(secure.host == "127.0.0.1" && secure.port == 6380 && secure.database == 2 && secure.password == "pw")
        #expect(try RedisConfiguration(url: "rediss://redis.example").tlsCAFile == nil)
    }

    @Test(arguments: [
        ("", "scheme"),
        ("localhost:6379", "scheme"),
        ("http://localhost", "scheme"),
        ("rediss://localhost?db=1", "only query parameter"),
        ("rediss://localhost?ca=", "empty 'ca='"),
        ("rediss://localhost#x", "fragment"),
        ("redis://", "missing host"),
        ("redis://:6379/0", "missing host"),
        ("redis://localhost:", "empty port"),
        ("redis://localhost:abc", "port"),
        ("redis://localhost:70000", "port"),
        ("redis://localhost:-1", "port"),
        ("redis://localhost/x", "database"),
        ("redis://localhost/0/1", "database"),
        ("redis://localhost?db=1", "query"),
        ("redis://user:%zz@localhost", "percent-escape"),
        ("redis://user:@localhost", "empty password"),
        ("redis://[::1:6379", "IPv6"),
        ("redis://local host", "whitespace"),
    ])
    func malformedURLsAreInvalidURL(url: String, problem: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("'\(url)' parsed but should not")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains(problem), "message '\(error.message)' should mention \(problem)")
        }
    }

    @Test func invalidURLNeverEchoesThePassword() {
        do {
            _ = try RedisConfiguration(url: "redis://user:topsecret@host:notaport")
            Issue.record("should not parse")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }

    @Test func missingTestURLFailsLoudly() {
        let error = #expect(throws: TestRedis.MissingURL.self) { try TestRedis.url(environment: [:]) }
        let message = error?.description ?? ""
        #expect(message.contains("FLUXFORGE_TEST_REDIS_URL is not set"))
        #expect(message.contains("cluster/test"))
    }

    @Test func urlDatabaseIsSelected() async throws {
        let base = try TestRedis.configuration()
        let key = TestRedis.uniquePrefix()
        var url = "redis://"
        if let password = base.password { url += "\(base.username ?? ""):\(password)@" }
        url += "\(base.host):\(base.port)/7"
        try await withConnection(try RedisConfiguration(url: url)) { redis throws in
            try await redis.set(key, "in-db-7")
            let info = try await redis.send(RedisCommand("CLIENT", "INFO")).string ?? ""
            #expect(info.contains(" db=7 "))
        }
        try await withConnection(try TestRedis.configuration(database: 0)) { redis throws in
            #expect(try await redis.exists(key) == 0)
            _ = try await redis.send(RedisCommand("SELECT", 7))
            #expect(try await redis.get(key) == "in-db-7".bytes)
            try await redis.del(key)
        }
    }
}
