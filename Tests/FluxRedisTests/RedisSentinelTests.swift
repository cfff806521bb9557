import FluxRedis
import FluxTesting
import Testing

/// `RedisClient` in Sentinel mode against real processes: a master, a replica and three
/// sentinels (`RedisSentinelProcess`), one deployment per test. Serialized: five processes per
/// test is enough for a 2-core machine, and the failover test measures time.
@Suite("RedisClient through Redis Sentinel (real master, replica, 3 sentinels)", .serialized, .timeLimit(.minutes(2)))
struct RedisSentinelTests {
    @Test func followsAFailoverToThePromotedReplica() async throws {
        let deployment = try await RedisSentinelProcess()
        defer { deployment.stop() }
        var configuration = deployment.configuration
        // A sentinel that is down comes first: it is skipped, the next one answers.
        let down = RedisSentinelConfiguration.Address(host: "127.0.0.1", port: try RedisServerProcess.freeLoopbackPort())
        configuration.sentinel?.sentinels.insert(down, at: 0)
        let client = RedisClient(configuration: configuration)
        defer { Task { await client.close() } }

        let oldMaster = try await deployment.masterPort()
        #expect(oldMaster == deployment.dataPorts[0])
        // One pipeline, so one connection: WAIT waits for that connection's own writes.
        let written = try await client.pipeline([RedisCommand("SET", "before", "kept"), RedisCommand("WAIT", 1, 1_000)])
        #expect(written == [.simpleString("OK"), .integer(1)], "the replica has it before the kill")
        #expect(try await client.send(RedisCommand("GET", "before")) == .bulk("kept".bytes))
        let dedicated = try await client.makeDedicatedConnection()
        #expect(dedicated.configuration.port == oldMaster, "dedicated connections resolve too")
        await dedicated.close()

        let clock = ContinuousClock()
        let killedAt = clock.now
        deployment.kill(port: oldMaster)
        var window: Duration?
        var failures: [String: Int] = [:]
        while window == nil, clock.now - killedAt < .seconds(20) {
            let start = clock.now
            do {
                _ = try await client.send(RedisCommand("SET", "after", "written"))
                window = clock.now - killedAt
            } catch {
                failures[error.code.description, default: 0] += 1
                #expect(clock.now - start < .seconds(6), "a call during the failover took \(clock.now - start): \(error)")
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let measured = try #require(window, "no write succeeded within 20 s of the kill (\(failures))\n\(deployment.sentinelLogs())")
        print("sentinel failover: kill -9 of the master → first successful write through the client: \(measured); failed calls before: \(failures)")

        let newMaster = try await deployment.masterPort()
        #expect(newMaster != oldMaster && deployment.dataPorts.contains(newMaster))
        #expect(try await client.send(RedisCommand("GET", "before")) == .bulk("kept".bytes), "a write replicated before the kill survives")
        #expect(try await deployment.command(RedisCommand("GET", "after"), port: newMaster) == .bulk("written".bytes))
        // Every pooled slot ends up on the promoted replica (slots still backing off catch up).
        var served = 0
        let deadline = clock.now + .seconds(5)
        while served < 8, clock.now < deadline {
            if (try? await client.send(RedisCommand("GET", "after"))) == .bulk("written".bytes) { served += 1 } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(served == 8, "every pooled connection serves from the new master")
        let promoted = try await client.makeDedicatedConnection()
        #expect(promoted.configuration.port == newMaster)
        #expect(try await promoted.send(RedisCommand("ROLE")).array?.first == .bulk("master".bytes))
        await promoted.close()
    }

    @Test func refusesANodeTheSentinelsNameThatIsNotAMaster() async throws {
        // No replica: the sentinels cannot fail over, so they keep naming the node after it is
        // demoted behind their back. That is the stale answer the client must not trust.
        let deployment = try await RedisSentinelProcess(replicas: 0)
        defer { deployment.stop() }
        let node = deployment.dataPorts[0]
        var configuration = deployment.configuration
        configuration.poolSize = 1
        let client = RedisClient(configuration: configuration)
        defer { Task { await client.close() } }
        #expect(try await client.send(RedisCommand("SET", "k", "before")) == .simpleString("OK"))
        // A user that may not run ROLE cannot be checked, so it is not let through either.
        _ = try await deployment.command(RedisCommand("ACL", "SETUSER", "norole", "on", ">pw", "~*", "&*", "+@all", "-@admin"), port: node)
        var withoutRole = configuration
        (withoutRole.username, withoutRole.password) = ("norole", "pw")
        let unchecked = await redisError { _ = try await RedisConnection.connect(configuration: withoutRole) }
        #expect(unchecked?.code == .connectionRefused && unchecked?.message.contains("'+role'") == true, "\(unchecked?.message ?? "")")

        let nowhere = try RedisServerProcess.freeLoopbackPort()
        _ = try await deployment.command(RedisCommand("REPLICAOF", "127.0.0.1", nowhere), port: node)
        #expect(try await deployment.masterPort() == node, "the sentinels still name the demoted node")

        // The pooled connection opened before the demotion: its write is refused by the node
        // itself, and the caller sees that as today.
        let readOnly = await redisError { _ = try await client.send(RedisCommand("SET", "k", "after")) }
        #expect(readOnly?.serverErrorPrefix == "READONLY")
        // From then on the client does not use the node at all, for writes or reads, pooled or
        // dedicated: each call fails at once, before sending anything.
        let clock = ContinuousClock()
        let start = clock.now
        for command in [RedisCommand("SET", "k", "after"), RedisCommand("GET", "k"), RedisCommand("SET", "k", "after")] {
            let refused = await redisError { _ = try await client.send(command) }
            #expect(refused?.code == .connectionRefused, "\(refused.map { "\($0)" } ?? "no error")")
            #expect(refused?.wasNeverSent == true)
            #expect(refused?.message.contains("ROLE 'slave'") == true, "\(refused?.message ?? "")")
            try await Task.sleep(for: .milliseconds(300))
        }
        let dedicated = await redisError { _ = try await client.makeDedicatedConnection() }
        #expect(dedicated?.code == .connectionRefused && dedicated?.message.contains("ROLE 'slave'") == true)
        #expect(clock.now - start < .seconds(8))
        #expect(try await deployment.command(RedisCommand("GET", "k"), port: node) == .bulk("before".bytes))

        // Promoted again: the client uses it again by itself.
        _ = try await deployment.command(RedisCommand("REPLICAOF", "NO", "ONE"), port: node)
        var healed = false
        let deadline = clock.now + .seconds(5)
        while !healed, clock.now < deadline {
            healed = (try? await client.send(RedisCommand("SET", "k", "after"))) == .simpleString("OK")
            if !healed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(healed, "the client did not come back to the node once it was a master again")
        #expect(try await client.send(RedisCommand("GET", "k")) == .bulk("after".bytes))
    }

    @Test func noAnsweringSentinelIsAConnectionFailureNamingEach() async throws {
        let ports = [try RedisServerProcess.freeLoopbackPort(), try RedisServerProcess.freeLoopbackPort()]
        var configuration = try RedisConfiguration(url: "redis-sentinel://127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/nobody")
        configuration.sentinel?.timeout = .milliseconds(500)
        let client = RedisClient(configuration: configuration)
        defer { Task { await client.close() } }
        let error = await redisError { _ = try await client.send(RedisCommand("PING")) }
        #expect(error?.code == .connectionRefused && error?.isConnectionFailure == true && error?.wasNeverSent == true)
        for port in ports { #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(error?.message ?? "")") }
        #expect(error?.message.contains("'nobody'") == true)
    }
}
