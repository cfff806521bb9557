import FluxRedis
import Testing

/// `--redis` decides between one server and a Redis Cluster (`RedisBackends`).
@Suite("redis-cluster:// URLs")
struct RedisBackendsTests {
    @Test func clusterSeedsCarryCredentialsAndTLSToEveryNode() throws {
        let seeds = try #require(try RedisBackends.clusterSeeds("rediss-cluster://ff:s3cret@10.0.0.1:7000,10.0.0.2:7001/?ca=/etc/ca.pem"))
        #expect(seeds.map(\.host) == ["10.0.0.1", "10.0.0.2"] && seeds.map(\.port) == [7000, 7001])
        #expect(seeds.allSatisfy { $0.username == "ff" && $0.password == "s3cret" && $0.tls && $0.tlsCAFile == "/etc/ca.pem" && $0.database == 0 })
    }

    @Test func oneServerIsNotACluster() throws {
        #expect(try RedisBackends.clusterSeeds("redis://127.0.0.1:6379/2") == nil)
        #expect(try RedisBackends.make(url: "redis://127.0.0.1:6379/2", logger: .init(label: "t")).oneHashSlotPerCommand == false)
        #expect(try RedisBackends.make(url: "redis-cluster://127.0.0.1:7000", logger: .init(label: "t")).oneHashSlotPerCommand)
    }

    @Test func badClusterURLsAreRefusedWithAReason() {
        for url in ["redis-cluster://", "redis-cluster://a:1,,b:2", "redis-cluster://a:1/3", "redis-cluster://a:notaport"] {
            #expect(throws: RedisError.self, "\(url)") { _ = try RedisBackends.clusterSeeds(url) }
        }
        // The reason names the URL without its password (it ends up in logs and exit messages).
        for url in ["redis-cluster://ff:s3cret@a:1,,b:2", "redis-cluster://ff:s3cret@a:1/3", "redis-cluster://ff:s3cret@a:notaport"] {
            do {
                _ = try RedisBackends.clusterSeeds(url)
                Issue.record("\(url) accepted")
            } catch {
                #expect(!"\(error)".contains("s3cret"), "\(error)")
            }
        }
    }

    @Test func logsNeverCarryThePassword() {
        #expect(RedisBackends.redacted("redis://ff:s3cret@10.0.0.1:6379/0") == "redis://10.0.0.1:6379/0")
        #expect(RedisBackends.redacted("redis-cluster://:pw@a:1,b:2") == "redis-cluster://a:1,b:2")
        #expect(RedisBackends.redacted("redis://10.0.0.1:6379/0") == "redis://10.0.0.1:6379/0")
        #expect(RedisBackends.redacted("redis-sentinel://:pw@s1:26379,s2/main?sentinel-password=x") == "redis-sentinel://s1:26379,s2/main")
    }
}
