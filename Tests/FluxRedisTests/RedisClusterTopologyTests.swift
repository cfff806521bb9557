@testable import FluxRedis
import Testing

/// `CLUSTER SHARDS` as a real Redis 7.0.15 cluster answered it (captured with a RESP dump, then
/// written as `RedisReply`): 3+3 nodes after master 17101 was killed and its replica 17105
/// promoted, and slot 5461 resharded from 17102 to 17103. So it holds a shard with two slot
/// ranges, a promoted master with no replica, and the failed master as a shard with no slots.
let capturedShardsReply: RedisReply = .array([
    .array([
        b("slots"),
        .array([.integer(5461), .integer(5461), .integer(10923), .integer(16383)]),
        b("nodes"),
        .array([
            .array([b("id"), b("4459cc7a88fe022357c8a92d9d39b2aad7d19127"), b("port"), .integer(17103), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("master"), b("replication-offset"), .integer(124), b("health"), b("online")]),
            .array([b("id"), b("c866372be1c9e94bd68bb6139ea307c5fa984246"), b("port"), .integer(17104), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("replica"), b("replication-offset"), .integer(124), b("health"), b("online")]),
        ]),
    ]),
    .array([
        b("slots"),
        .array([.integer(5462), .integer(10922)]),
        b("nodes"),
        .array([
            .array([b("id"), b("e8bc8876ec2e19cb081d0d952d4cc3c65f50fb33"), b("port"), .integer(17102), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("master"), b("replication-offset"), .integer(70), b("health"), b("online")]),
            .array([b("id"), b("c487795a3007563fd11e8aff31898d38fbe8efdc"), b("port"), .integer(17106), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("replica"), b("replication-offset"), .integer(70), b("health"), b("online")]),
        ]),
    ]),
    .array([
        b("slots"),
        .array([]),
        b("nodes"),
        .array([
            .array([b("id"), b("6aab38e38b4519c27342a722e9017c905c7e8d31"), b("port"), .integer(17101), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("master"), b("replication-offset"), .integer(42), b("health"), b("fail")]),
        ]),
    ]),
    .array([
        b("slots"),
        .array([.integer(0), .integer(5460)]),
        b("nodes"),
        .array([
            .array([b("id"), b("9d2a2b19dc9f08c51a601067ae4b70723c8c0a50"), b("port"), .integer(17105), b("ip"), b("127.0.0.1"), b("endpoint"), b("127.0.0.1"), b("role"), b("master"), b("replication-offset"), .integer(42), b("health"), b("online")]),
        ]),
    ]),
])

private func b(_ text: String) -> RedisReply { .bulk(Array(text.utf8)) }

@Suite("CLUSTER SHARDS parsing, MOVED/ASK parsing, retry verdicts (no I/O)")
struct RedisClusterTopologyTests {
    @Test func parsesACapturedReply() throws {
        let topology = try RedisClusterTopology(shardsReply: capturedShardsReply)
        let endpoint = { (port: Int) in RedisClusterEndpoint(host: "127.0.0.1", port: port) }
        #expect(topology.uncoveredSlotCount == 0)
        #expect(topology.masterEndpoints == [endpoint(17103), endpoint(17102), endpoint(17105)])
        #expect(topology.master(forSlot: 0) == endpoint(17105))
        #expect(topology.master(forSlot: 5460) == endpoint(17105))
        #expect(topology.master(forSlot: 5461) == endpoint(17103))
        #expect(topology.master(forSlot: 5462) == endpoint(17102))
        #expect(topology.master(forSlot: 10922) == endpoint(17102))
        #expect(topology.master(forSlot: 10923) == endpoint(17103))
        #expect(topology.master(forSlot: 16383) == endpoint(17103))
        #expect(topology.master(forSlot: 16384) == nil)
        #expect(topology.master(forSlot: -1) == nil)
        let shard = try #require(topology.shard(forSlot: 12000))
        #expect(shard.slotRanges == [5461...5461, 10923...16383])
        #expect(shard.master.id == "4459cc7a88fe022357c8a92d9d39b2aad7d19127")
        #expect(shard.replicas.map(\.endpoint) == [endpoint(17104)])
        #expect(shard.replicas.map(\.isMaster) == [false])
        #expect(topology.shard(forSlot: 0)?.replicas == [])
        let failed = try #require(topology.shards.first { $0.master.endpoint == endpoint(17101) })
        #expect(failed.slotRanges.isEmpty && failed.master.health == "fail")
        #expect(Set(topology.allEndpoints.map(\.port)) == [17101, 17102, 17103, 17104, 17105, 17106])
    }

    @Test func reassigningOneSlotLeavesTheRest() throws {
        let topology = try RedisClusterTopology(shardsReply: capturedShardsReply)
        let newcomer = RedisClusterEndpoint(host: "10.0.0.9", port: 7000)
        let moved = topology.reassigning(slot: 42, to: newcomer)
        #expect(moved.master(forSlot: 42) == newcomer)
        #expect(moved.master(forSlot: 41) == topology.master(forSlot: 41))
        #expect(moved.master(forSlot: 43) == topology.master(forSlot: 43))
        #expect(topology.master(forSlot: 42) != newcomer, "the original is a value and stays as it was")
    }

    @Test func unknownEndpointFallsBackToTheAnsweringHostAndTLSPort() throws {
        let node: RedisReply = .array([b("id"), b("abc"), b("tls-port"), .integer(7443), b("ip"), b("?"),
                                       b("endpoint"), b(""), b("role"), b("master"), b("health"), b("online")])
        let reply: RedisReply = .array([.array([b("slots"), .array([.integer(0), .integer(16383)]), b("nodes"), .array([node])])])
        let topology = try RedisClusterTopology(shardsReply: reply, fallbackHost: "redis-a.internal")
        #expect(topology.master(forSlot: 100) == RedisClusterEndpoint(host: "redis-a.internal", port: 7443))
    }

    @Test(arguments: [
        RedisReply.simpleString("OK"),
        .array([.integer(1)]),
        .array([.array([b("slots"), .array([.integer(0)]), b("nodes"), .array([])])]),
        .array([.array([b("slots"), .array([.integer(0), .integer(16384)]), b("nodes"), .array([])])]),
        .array([.array([b("slots"), .array([.integer(9), .integer(3)]), b("nodes"), .array([])])]),
        .array([.array([b("slots"), .array([]), b("nodes"), .array([.array([b("id"), b("x"), b("role"), b("master")])])])]),
        .array([.array([b("nodes"), .array([])])]),
    ])
    func malformedRepliesThrowProtocolErrors(reply: RedisReply) {
        #expect(throws: RedisError.self) { try RedisClusterTopology(shardsReply: reply) }
        do {
            _ = try RedisClusterTopology(shardsReply: reply)
        } catch {
            #expect(error.code == .protocolError)
            #expect(error.message.contains("CLUSTER SHARDS"))
        }
    }

    @Test func parsesMovedAndAsk() {
        let target = RedisClusterEndpoint(host: "127.0.0.1", port: 6381)
        #expect(RedisClusterRedirection(errorText: "MOVED 3999 127.0.0.1:6381") == .moved(slot: 3999, endpoint: target))
        #expect(RedisClusterRedirection(errorText: "ASK 3999 127.0.0.1:6381") == .ask(slot: 3999, endpoint: target))
        #expect(RedisClusterRedirection(errorText: "MOVED 7 :6390", replyingHost: "10.1.1.1")
            == .moved(slot: 7, endpoint: RedisClusterEndpoint(host: "10.1.1.1", port: 6390)))
        #expect(RedisClusterRedirection(errorText: "MOVED 7 ::1:6390")?.endpoint == RedisClusterEndpoint(host: "::1", port: 6390))
        for text in ["MOVED", "MOVED 3999", "MOVED x 127.0.0.1:1", "MOVED 16384 127.0.0.1:1", "ASK 1 127.0.0.1",
                     "ASK 1 127.0.0.1:0", "ASK 1 127.0.0.1:70000", "ERR MOVED 1 a:1", "MOVED 1 a:1 extra", "moved 1 a:1"] {
            #expect(RedisClusterRedirection(errorText: text) == nil, "\(text)")
        }
    }

    @Test func verdictsRetryOnlyWhatDidNotRun() {
        func verdict(_ outcome: Result<RedisReply, RedisError>) -> RedisClusterVerdict {
            RedisClusterVerdict(outcome, replyingHost: "127.0.0.1")
        }
        #expect(verdict(.success(.bulk([1]))) == .done)
        #expect(verdict(.success(.error("WRONGTYPE Operation against a key"))) == .done)
        #expect(verdict(.success(.error("CROSSSLOT Keys in request don't hash to the same slot"))) == .done)
        #expect(verdict(.success(.error("MOVED 1 127.0.0.1:7000")))
            == .redirect(.moved(slot: 1, endpoint: RedisClusterEndpoint(host: "127.0.0.1", port: 7000))))
        for refusal in ["CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys request during rehashing of slot",
                        "LOADING Redis is loading the dataset in memory", "READONLY You can't write against a read only replica."] {
            #expect(verdict(.success(.error(refusal))) == .retry, "\(refusal)")
        }
        let refused = RedisError(code: .connectionRefused, message: "refused", wasNeverSent: true)
        let lostUnsent = RedisError(code: .connectionLost, message: "gone", wasNeverSent: true)
        let lostWritten = RedisError(code: .connectionLost, message: "gone")
        let timedOut = RedisError(code: .timeout, message: "late")
        let closed = RedisError(code: .closed, message: "closed", wasNeverSent: true)
        #expect(verdict(.failure(refused)) == .retry)
        #expect(verdict(.failure(lostUnsent)) == .retry)
        #expect(verdict(.failure(lostWritten)) == .fail)
        #expect(verdict(.failure(timedOut)) == .fail)
        #expect(verdict(.failure(closed)) == .fail)
    }

    @Test func backoffDoublesUpToItsCap() {
        let policy = RedisClusterRetryPolicy()
        #expect((1...6).map(policy.backoff(afterAttempt:))
            == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        let total = (1..<policy.maximumAttempts).reduce(Duration.zero) { $0 + policy.backoff(afterAttempt: $1) }
        #expect(total == .milliseconds(1_500), "the default waits fit well inside the 3 s budget")
    }
}
