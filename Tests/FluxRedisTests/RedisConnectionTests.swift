import FluxRedis
import FluxTesting
import Testing

@Suite("RedisConnection against a real server")
struct RedisConnectionTests {
    @Test func everyReplyType() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            #expect(try await redis.send(RedisCommand("PING")) == .simpleString("PONG"))
            #expect(try await redis.send(RedisCommand("SET", key + "s", "v")) == .simpleString("OK"))
            #expect(try await redis.send(RedisCommand("GET", key + "s")) == .bulk("v".bytes))
            #expect(try await redis.send(RedisCommand("SET", key + "e", "")) == .simpleString("OK"))
            #expect(try await redis.send(RedisCommand("GET", key + "e")) == .bulk([]))
            #expect(try await redis.send(RedisCommand("INCRBY", key + "n", Int64(-7))) == .integer(-7))
            #expect(try await redis.send(RedisCommand("GET", key + "missing")) == .null)
            _ = try await redis.send(RedisCommand("RPUSH", key + "l", "a", "b", "c"))
            let list = try await redis.send(RedisCommand("LRANGE", key + "l", 0, -1))
            #expect(list == .array([.bulk("a".bytes), .bulk("b".bytes), .bulk("c".bytes)]))
            #expect(try await redis.send(RedisCommand("LRANGE", key + "none", 0, -1)) == .array([]))
            let nested = try await redis.send(RedisCommand("EVAL", "return {1, {'x', {2}}}", 0))
            #expect(nested == .array([.integer(1), .array([.bulk("x".bytes), .array([.integer(2)])])]))
            let replies = try await redis.pipeline([RedisCommand("NOSUCHCOMMAND"), RedisCommand("PING")])
            #expect(replies.count == 2)
            #expect(replies[0].string?.hasPrefix("ERR unknown command") == true)
            #expect(replies[1] == .simpleString("PONG"))
        }
    }

    @Test func serverErrorIsThrownWithItsText() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            _ = try await redis.send(RedisCommand("RPUSH", key, "x"))
            let error = await redisError { _ = try await redis.send(RedisCommand("INCR", key)) }
            #expect(error?.code == .server)
            #expect(error?.serverErrorPrefix == "WRONGTYPE")
            #expect(try await redis.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
    }

    @Test func binarySafeValuesWithNULBytes() async throws {
        let key = Array(TestRedis.uniquePrefix().utf8) + [0, 0xFF, 0, 10, 13]
        var value: [UInt8] = [0, 0, 13, 10, 0]
        value += (0...255).map { UInt8($0) } + [0]
        try await withConnection { redis throws in
            _ = try await redis.send(RedisCommand("SET", key, value))
            #expect(try await redis.send(RedisCommand("GET", key)) == .bulk(value))
            #expect(try await redis.send(RedisCommand("STRLEN", key)) == .integer(Int64(value.count)))
        }
    }

    @Test func oneMebibyteValueRoundTrip() async throws {
        let key = TestRedis.uniquePrefix()
        var generator = SystemRandomNumberGenerator()
        let value = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await withConnection { redis throws in
            _ = try await redis.send(RedisCommand("SET", key, value))
            let replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("STRLEN", key)])
            #expect(replies == [.bulk(value), .integer(1 << 20)])
        }
    }

    @Test func tenThousandCommandsFromFiftyConcurrentTasks() async throws {
        let prefix = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            try await runConcurrentWorkload(on: redis, prefix: prefix)
        }
    }

    @Test func pipelineBatchKeepsOrderAndReturnsErrorsInPlace() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            var commands = (0..<1000).map { _ in RedisCommand("INCR", key + "counter") }
            commands[500] = RedisCommand("HGET", key + "counter", "field")  // WRONGTYPE in the middle
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 1000)
            #expect(replies[..<500] == ArraySlice((1...500).map { RedisReply.integer(Int64($0)) }))
            #expect(replies[500].string?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[501...] == ArraySlice((501...999).map { RedisReply.integer(Int64($0)) }))
            #expect(try await redis.pipeline([]) == [])
        }
    }

    @Test func largePipelinesInterleaveWithConcurrentCommands() async throws {
        try await withConnection { redis throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        let commands = (0..<1000).map { RedisCommand("ECHO", "p\(task)-\($0)") }
                        let replies = try await redis.pipeline(commands)
                        #expect(replies == (0..<1000).map { .bulk(Array("p\(task)-\($0)".utf8)) })
                    }
                    group.addTask {
                        for index in 0..<100 {
                            let reply = try await redis.send(RedisCommand("ECHO", "s\(task)-\(index)"))
                            #expect(reply.string == "s\(task)-\(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func closeFailsLaterCommandsWithClosed() async throws {
        let redis = try await RedisConnection.connect(configuration: TestRedis.configuration())
        await redis.close()
        #expect(redis.isClosed)
        let error = await redisError { _ = try await redis.send(RedisCommand("PING")) }
        #expect(error?.code == .closed)
    }
}

/// 50 tasks × 200 commands, all in flight together on `redis`: each task SETs 100 distinct
/// values concurrently, then GETs them back concurrently and checks every reply.
func runConcurrentWorkload(on redis: some RedisCommandSender, prefix: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for task in 0..<50 {
            tasks.addTask {
                try await withThrowingTaskGroup(of: Void.self) { commands in
                    for index in 0..<100 {
                        commands.addTask {
                            let reply = try await redis.send(RedisCommand("SET", "\(prefix)\(task):\(index)", "v\(task)-\(index)"))
                            #expect(reply == .simpleString("OK"))
                        }
                    }
                    try await commands.waitForAll()
                }
                try await withThrowingTaskGroup(of: Void.self) { commands in
                    for index in 0..<100 {
                        commands.addTask {
                            let reply = try await redis.send(RedisCommand("GET", "\(prefix)\(task):\(index)"))
                            #expect(reply.string == "v\(task)-\(index)")
                        }
                    }
                    try await commands.waitForAll()
                }
            }
        }
        try await tasks.waitForAll()
    }
}
