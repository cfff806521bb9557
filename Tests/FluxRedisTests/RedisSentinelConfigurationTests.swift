@testable import FluxRedis
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Sentinel mode without servers: the `redis-sentinel://` grammar, the two replies it reads, and
/// the pool machine dropping a connection that reached a demoted master.
@Suite("redis-sentinel:// URLs, Sentinel replies and the pool's READONLY drop")
struct RedisSentinelConfigurationTests {
    typealias Address = RedisSentinelConfiguration.Address

    @Test func fullURL() throws {
        let configuration = try RedisConfiguration(
            url: "redis-sentinel://alice:p%40ss@10.0.0.1:26379,sentinel-b:26380,[::1]/my%2Fmaster/3?sentinel-password=s%26cret")
        let sentinel = try #require(configuration.sentinel)
        #expect(sentinel.sentinels == [Address(host: "10.0.0.1", port: 26_379), Address(host: "sentinel-b", port: 26_380), Address(host: "::1", port: 26_379)])
        #expect(sentinel.masterName == "my/master")
        #expect(sentinel.password == "s&cret")
        #expect(sentinel.timeout == .seconds(1))
        #expect(configuration.username == "alice" && configuration.password == "p@ss", "the data nodes' credentials")
        #expect(configuration.database == 3)
        #expect(configuration.host == "10.0.0.1" && configuration.port == 26_379, "host and port hold the first sentinel")
        #expect(!configuration.tls)
        #expect(configuration.endpointDescription == "sentinel master my/master via 10.0.0.1:26379,sentinel-b:26380,::1:26379")
    }

    @Test func defaultsAndPasswordOnly() throws {
        let plain = try RedisConfiguration(url: "redis-sentinel://sentinel-a/mymaster")
        #expect(plain.sentinel?.sentinels == [Address(host: "sentinel-a", port: 26_379)])
        #expect(plain.sentinel?.masterName == "mymaster" && plain.sentinel?.password == nil)
        #expect(plain.database == 0 && plain.username == nil && plain.password == nil)
        let passwordOnly = try RedisConfiguration(url: "REDIS-SENTINEL://:secret@h1:1,h2:2/m/")
        #expect(passwordOnly.password == "secret" && passwordOnly.username == nil && passwordOnly.database == 0)
        #expect(passwordOnly.sentinel?.sentinels.count == 2)
        #expect(try RedisConfiguration(url: "redis://h:6380").sentinel == nil)
        #expect(try RedisConfiguration(url: "redis://h:6380").endpointDescription == "h:6380")
    }

    @Test(arguments: [
        ("redis-sentinel://", "missing '/<master-name>'"),
        ("redis-sentinel://h1:26379", "missing '/<master-name>'"),
        ("redis-sentinel://h1:26379/", "missing master name"),
        ("redis-sentinel:///mymaster", "missing sentinel host"),
        ("redis-sentinel://h1,,h2/m", "empty sentinel address"),
        ("redis-sentinel://h1,/m", "empty sentinel address"),
        ("redis-sentinel://h1:0/m", "port"),
        ("redis-sentinel://h1:x/m", "port"),
        ("redis-sentinel://h1:/m", "empty port"),
        ("redis-sentinel://h1/m/x", "database"),
        ("redis-sentinel://h1/m/1/2", "database"),
        ("redis-sentinel://h1/m?ca=/x", "sentinel-password"),
        ("redis-sentinel://h1/m?sentinel-password=", "empty 'sentinel-password='"),
        ("redis-sentinel://h1/m?sentinel-password=a&x=1", "only query parameter"),
        ("redis-sentinel://h1/m#x", "fragment"),
        ("rediss-sentinel://h1/m", "not supported"),
        ("redis-sentinel://h1/m%zz", "percent-escape"),
        ("redis-sentinel://h 1/m", "whitespace"),
        ("redis-sentinel://h1/m%20x", "master name contains whitespace"),
        ("redis-sentinel://u:@h1/m", "empty password"),
        ("redis-sentinel://[::1/m", "IPv6"),
        ("sentinel://h1/m", "scheme"),
    ])
    func malformedSentinelURLsAreInvalidURL(url: String, problem: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("'\(url)' parsed but should not")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains(problem), "message '\(error.message)' should mention \(problem)")
        }
    }

    @Test func invalidSentinelURLNeverEchoesPasswords() {
        do {
            _ = try RedisConfiguration(url: "redis-sentinel://u:topsecret@h1:bad/m?sentinel-password=alsosecret")
            Issue.record("should not parse")
        } catch {
            #expect(!error.description.contains("topsecret") && !error.description.contains("alsosecret"))
        }
    }

    @Test func sentinelRepliesAreReadStrictly() throws {
        let named = RedisReply.array([.bulk(Array("127.0.0.1".utf8)), .bulk(Array("6380".utf8))])
        #expect(try RedisSentinelReplies.masterAddress(named) == Address(host: "127.0.0.1", port: 6380))
        #expect(try RedisSentinelReplies.masterAddress(.null) == nil, "a sentinel that monitors no such name")
        for bad: RedisReply in [.array([.bulk(Array("h".utf8))]), .array([.bulk(Array("h".utf8)), .bulk(Array("0".utf8))]),
                                .array([.bulk([]), .bulk(Array("1".utf8))]), .integer(1), .simpleString("OK")] {
            #expect(throws: RedisError.self, "\(bad)") { _ = try RedisSentinelReplies.masterAddress(bad) }
        }
        let master = RedisReply.array([.bulk(Array("master".utf8)), .integer(42), .array([])])
        let replica = RedisReply.array([.bulk(Array("slave".utf8)), .bulk(Array("127.0.0.1".utf8)), .integer(6379), .bulk(Array("connected".utf8)), .integer(42)])
        #expect(try RedisSentinelReplies.role(master) == "master")
        #expect(try RedisSentinelReplies.role(replica) == "slave")
        for bad: RedisReply in [.array([]), .null, .integer(1)] {
            #expect(throws: RedisError.self, "\(bad)") { _ = try RedisSentinelReplies.role(bad) }
        }
    }

    final class FakeConnection: RedisPooledConnection {
        let closed = Atomic(false)
        var isClosed: Bool { closed.load(ordering: .relaxed) }
    }

    /// Leases slot `expected`, which must start a connect, and completes it with a new fake.
    static func connect(_ machine: inout RedisClient.PoolStateMachine<FakeConnection>, expectedSlot: Int) throws -> FakeConnection {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        guard case .connect(let slot, let promise) = machine.lease(now: .now(), makePromise: { _ in loop.makePromise() }) else {
            throw RedisError(code: .protocolError, message: "expected a connect")
        }
        #expect(slot == expectedSlot)
        let connection = FakeConnection()
        promise.succeed(connection)
        #expect(machine.connectSucceeded(slot: slot, connection) == nil)
        return connection
    }

    @Test func aDemotedConnectionLeavesThePoolAndItsSlotConnectsAfresh() throws {
        var machine = RedisClient.PoolStateMachine<FakeConnection>(poolSize: 2, backoffMinimum: .milliseconds(50), backoffMaximum: .seconds(2))
        let first = try Self.connect(&machine, expectedSlot: 0)
        let second = try Self.connect(&machine, expectedSlot: 1)
        guard case .use(let used) = machine.lease(now: .now(), makePromise: { _ in preconditionFailure("no connect expected") }) else {
            Issue.record("a connected slot is used")
            return
        }
        #expect(used === first)

        #expect(machine.connectionDemoted(first) === first, "handed back to be retired")
        #expect(machine.connectionDemoted(first) == nil, "only once: the slot no longer holds it")
        guard case .use(let other) = machine.lease(now: .now(), makePromise: { _ in preconditionFailure("slot 1 is connected") }) else {
            Issue.record("slot 1 still serves")
            return
        }
        #expect(other === second)
        let replacement = try Self.connect(&machine, expectedSlot: 0)
        #expect(replacement !== first, "slot 0 reconnected (with Sentinel: asked the sentinels again)")

        #expect(machine.shutDown().count == 2)
        #expect(machine.connectionDemoted(replacement) == nil, "nothing to retire after shutdown")
    }
}

extension RedisSentinelConfigurationTests {
    @Test func aSuccessfulConnectEndsTheOtherSlotsBackoff() throws {
        var machine = RedisClient.PoolStateMachine<FakeConnection>(poolSize: 3, backoffMinimum: .seconds(10), backoffMaximum: .seconds(10))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let refused = RedisError(code: .connectionRefused, message: "no master yet")
        var promises: [Int: EventLoopPromise<FakeConnection>] = [:]
        for _ in 0..<3 {
            guard case .connect(let slot, let promise) = machine.lease(now: .now(), makePromise: { _ in loop.makePromise() }) else {
                Issue.record("every slot connects on its first lease")
                return
            }
            promises[slot] = promise
        }
        for slot in [0, 1] {
            promises[slot]?.fail(refused)
            machine.connectFailed(slot: slot, error: refused, now: .now())
        }
        guard case .fail(let error) = machine.lease(now: .now(), makePromise: { _ in preconditionFailure("backing off") }) else {
            Issue.record("slot 0 backs off for 10 s")
            return
        }
        #expect(error == refused)
        // Slot 2's connect goes through (the server is back): slot 1 must not keep failing its
        // callers with the stale error for the rest of its 10 s.
        let connection = FakeConnection()
        promises[2]?.succeed(connection)
        #expect(machine.connectSucceeded(slot: 2, connection) == nil)
        guard case .connect(let slot, let promise) = machine.lease(now: .now(), makePromise: { _ in loop.makePromise() }) else {
            Issue.record("slot 1 connects at once once another slot has")
            return
        }
        #expect(slot == 1)
        promise.succeed(FakeConnection())
    }
}
