@testable import FluxRedis
import FluxTesting
import Testing

@Suite("RedisClient pool and reconnect")
struct RedisClientTests {
    @Test func poolRunsConcurrentWorkload() async throws {
        let prefix = TestRedis.uniquePrefix()
        try await withClient { redis throws in
            try await runConcurrentWorkload(on: redis, prefix: prefix)
            let batch = try await redis.pipeline((0..<100).map { RedisCommand("ECHO", $0) })
            #expect(batch == (0..<100).map { .bulk(Array(String($0).utf8)) })
        }
    }

    @Test func killedServerFailsFastThenClientReconnectsByItself() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let client = RedisClient(configuration: server.configuration)
        for _ in 0..<8 { #expect(try await client.ping() == "PONG") }  // every slot connected

        server.kill()
        let clock = ContinuousClock()
        for _ in 0..<8 {
            let start = clock.now
            let error = await redisError { _ = try await client.ping() }
            #expect(error?.code == .connectionRefused || error?.code == .connectionLost)
            #expect(clock.now - start < .seconds(3), "a caller waited too long for an error")
        }

        try await server.restart()
        let deadline = clock.now + .seconds(10)
        var recovered = 0
        while recovered < 8, clock.now < deadline {
            if (try? await client.ping()) == "PONG" { recovered += 1 } else { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(recovered == 8, "client did not reconnect within 10 s")
        await client.close()
    }

    @Test func unreachableServerFailsFastDuringBackoff() async throws {
        let server = try await RedisServerProcess()
        var configuration = server.configuration
        server.stop()
        configuration.reconnectBackoffMinimum = .seconds(10)
        configuration.reconnectBackoffMaximum = .seconds(10)
        configuration.poolSize = 1
        let client = RedisClient(configuration: configuration)
        let first = await redisError { try await client.ping() }
        #expect(first?.code == .connectionRefused)
        let clock = ContinuousClock()
        let start = clock.now
        let second = await redisError { try await client.ping() }
        #expect(second?.code == .connectionRefused)
        // Far below the 10 s backoff: it failed at once instead of waiting to reconnect.
        #expect(clock.now - start < .seconds(3), "backoff should fail at once, not reconnect")
        await client.close()
    }

    @Test func closedClientRejectsCommands() async throws {
        let client = RedisClient(configuration: try TestRedis.configuration())
        #expect(try await client.ping() == "PONG")
        await client.close()
        let error = await redisError { try await client.ping() }
        #expect(error?.code == .closed)
    }

    @Test func backoffDoublesUpToTheCap() {
        let machine = RedisClient.StateMachine(poolSize: 1, backoffMinimum: .milliseconds(50), backoffMaximum: .seconds(2))
        let delays = (1...9).map { machine.backoff(afterFailures: $0) }
        #expect(delays == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400),
                           .milliseconds(800), .milliseconds(1600), .seconds(2), .seconds(2), .seconds(2)])
    }
}
