import FluxRedis
import FluxTesting
import Testing

@Suite("Command helpers and scripts")
struct RedisCommandHelperTests {
    @Test func setNXPXSemantics() async throws {
        let key = TestRedis.uniquePrefix() + "lease"
        let short = key + ":short"
        try await withConnection { redis throws in
            #expect(try await redis.set(key, "owner-a", nx: true, px: .seconds(20)))
            #expect(try await !redis.set(key, "owner-b", nx: true, px: .seconds(20)))
            #expect(try await redis.get(key) == "owner-a".bytes)
            let ttl = try await redis.send(RedisCommand("PTTL", key)).int ?? -1
            #expect(ttl > 10_000 && ttl <= 20_000)
            #expect(try await redis.set(key, "overwrite", nx: false))
            #expect(try await redis.get(key) == "overwrite".bytes)

            #expect(try await redis.set(short, "a", nx: true, px: .milliseconds(100)))
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await redis.get(short) == nil)
            #expect(try await redis.set(short, "b", nx: true, px: .seconds(5)))
            try await redis.del(key, short)
        }
    }

    @Test func keyHelpers() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            #expect(try await redis.ping() == "PONG")
            #expect(try await redis.incr(key + "n") == 1)
            #expect(try await redis.incr(key + "n") == 2)
            try await redis.set(key + "s", [0, 1, 2] as [UInt8])
            #expect(try await redis.exists(key + "n", key + "s", key + "none") == 2)
            #expect(try await redis.expire(key + "n", after: .seconds(100)))
            #expect(try await redis.pexpire(key + "s", after: .milliseconds(5000)))
            #expect(try await !redis.expire(key + "none", after: .seconds(1)))
            #expect(try await redis.del(key + "n", key + "s", key + "none") == 2)
        }
    }

    @Test func sortedSetHelpers() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            #expect(try await redis.zadd(key, members: [(3, "c"), (1, "a"), (2, "b"), (2.5, "bb")]) == 4)
            #expect(try await redis.zadd(key, score: 10, member: "a") == 0)  // update, not new
            #expect(try await redis.zcard(key) == 4)
            #expect(try await redis.zscore(key, member: "bb") == 2.5)
            #expect(try await redis.zscore(key, member: "zz") == nil)
            let range = try await redis.zrangeByScore(key, min: 2, max: 3)
            #expect(range.map(\.member) == ["b", "bb", "c"])
            #expect(range.map(\.score) == [2, 2.5, 3])
            let limited = try await redis.zrangeByScore(key, min: -.infinity, max: .infinity, limit: (offset: 1, count: 2))
            #expect(limited.map(\.member) == ["bb", "c"])
            #expect(try await redis.zrem(key, members: ["b", "nope"]) == 1)
            #expect(try await redis.zcard(key) == 3)
        }
    }

    @Test func hashHelpers() async throws {
        let key = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            #expect(try await redis.hset(key, fields: [("name", "job-1"), ("blob", [0, 255] as [UInt8]), ("n", 5)]) == 3)
            #expect(try await redis.hget(key, field: "name") == "job-1".bytes)
            #expect(try await redis.hget(key, field: "missing") == nil)
            #expect(try await redis.hincrby(key, field: "n", by: -2) == 3)
            let all = try await redis.hgetall(key)
            #expect(all == ["name": "job-1".bytes, "blob": [0, 255], "n": "3".bytes])
            #expect(try await redis.hdel(key, fields: ["blob"]) == 1)
            #expect(try await redis.hgetall(key + "none") == [:])
        }
    }

    @Test func scriptSurvivesScriptFlush() async throws {
        let key = TestRedis.uniquePrefix()
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        try await withClient { redis throws in
            #expect(try await redis.evaluate(script, keys: [key], arguments: [5]) == .integer(5))
            let sha = try #require(script.sha)
            _ = try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
            let exists = try await redis.send(RedisCommand("SCRIPT", "EXISTS", sha))
            #expect(exists == .array([.integer(0)]))
            #expect(try await redis.evaluate(script, keys: [key], arguments: [2]) == .integer(7))
            #expect(script.sha == sha)
            let inPipeline = try await redis.pipeline([script.command(keys: [key], arguments: [1]), RedisCommand("GET", key)])
            #expect(inPipeline == [.integer(8), .bulk("8".bytes)])
        }
    }

    @Test func scriptErrorsAreServerErrors() async throws {
        let script = RedisScript("return redis.error_reply('CUSTOM broken')")
        try await withConnection { redis throws in
            let error = await redisError { _ = try await redis.evaluate(script) }
            #expect(error?.code == .server)
            #expect(error?.message.hasPrefix("CUSTOM broken") == true)
        }
    }
}
