import FluxRedis
import FluxTesting
import Testing

@Suite("Timeouts, authentication and lost connections (private servers)")
struct RedisFailureTests {
    @Test func commandTimeoutThenLateReplyIsDiscarded() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.commandTimeout = .milliseconds(500)
        try await withConnection(configuration) { redis throws in
            _ = try await redis.send(RedisCommand("CLIENT", "PAUSE", 4000, "ALL"))
            let clock = ContinuousClock()
            let start = clock.now
            async let batchError = redisError { _ = try await redis.pipeline((0..<500).map { RedisCommand("ECHO", $0) }) }
            let error = await redisError { _ = try await redis.send(RedisCommand("ECHO", "late")) }
            #expect(error?.code == .timeout)
            #expect(await batchError?.code == .timeout)
            // Far below the 4 s pause: the 500 ms timeout fired, not the end of the pause.
            #expect(clock.now - start < .milliseconds(3000))
            // Sent while the late "late" reply is still owed: it must not be handed to us.
            var patient = RedisCommand("ECHO", "next")
            patient.blockingDuration = .seconds(8)
            #expect(try await redis.send(patient) == .bulk("next".bytes))
            let replies = try await redis.pipeline((0..<20).map { RedisCommand("ECHO", "e\($0)") })
            #expect(replies == (0..<20).map { .bulk("e\($0)".bytes) })
        }
    }

    @Test func wrongPasswordIsAuthenticationFailed() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "s3cret"])
        defer { server.stop() }
        var configuration = server.configuration
        configuration.password = "wrong"
        let error = await redisError { _ = try await RedisConnection.connect(configuration: configuration) }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("WRONGPASS") == true)

        configuration.password = "s3cret"
        try await withConnection(configuration) { redis throws in
            #expect(try await redis.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
        let withUser = try RedisConfiguration(url: "redis://default:s3cret@127.0.0.1:\(server.port)/2")
        try await withConnection(withUser) { redis throws in
            #expect(try await redis.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
        let noPassword = await redisError {
            try await withConnection(server.configuration) { redis in _ = try await redis.send(RedisCommand("PING")) }
        }
        #expect(noPassword?.serverErrorPrefix == "NOAUTH")
    }

    @Test func connectionLostMidCommandFailsEveryPendingCaller() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let redis = try await RedisConnection.connect(configuration: server.configuration)
        let clock = ContinuousClock()
        let start = clock.now
        async let blocked = redisError { _ = try await redis.send(RedisCommand("BLPOP", "nothing", 30)) }
        // The PING must be written after the BLPOP (two `async let`s start in no set order; a
        // PING first is simply answered), so it waits behind the blocked command.
        try await Task.sleep(for: .milliseconds(100))
        async let queued = redisError { _ = try await redis.send(RedisCommand("PING")) }
        try await Task.sleep(for: .milliseconds(200))
        server.kill()
        let errors = await [blocked, queued]
        #expect(errors.map { $0?.code } == [.connectionLost, .connectionLost])
        #expect(clock.now - start < .seconds(5))
        let after = await redisError { _ = try await redis.send(RedisCommand("PING")) }
        #expect(after?.code == .connectionLost)
        await redis.close()
    }

    @Test func cancellingABlockedCallerFailsItAtOnceAndKeepsOrder() async throws {
        let list = TestRedis.uniquePrefix()
        try await withConnection { blocked throws in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { await redisError { _ = try await blocked.send(RedisCommand("BLPOP", list, 20)) } }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let error = await task.value
            #expect(error?.code == .cancelled)
            #expect(clock.now - start < .seconds(3))
            // The server still owes the BLPOP reply; release it, and the next reply must be ours.
            try await withConnection { other throws in _ = try await other.send(RedisCommand("RPUSH", list, "x")) }
            #expect(try await blocked.send(RedisCommand("ECHO", "after")) == .bulk("after".bytes))
        }
    }

    @Test func unreachableServerIsConnectionRefused() async throws {
        let server = try await RedisServerProcess()
        let configuration = server.configuration
        server.stop()
        let error = await redisError { _ = try await RedisConnection.connect(configuration: configuration) }
        #expect(error?.code == .connectionRefused)
    }
}
