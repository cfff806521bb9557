import FluxRedis
import FluxTesting
import Testing

@Suite("Stream helpers")
struct RedisStreamTests {
    @Test func consumerGroupLifecycle() async throws {
        let stream = TestRedis.uniquePrefix() + "jobs"
        try await withConnection { redis throws in
            try await redis.xgroupCreate(stream, group: "g", id: "0")
            try await redis.xgroupCreate(stream, group: "g", id: "0")  // BUSYGROUP is ignored
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try await redis.xadd(stream, maxLength: 1000, fields: [("n", index), ("blob", [0, UInt8(index)] as [UInt8])]))
            }
            #expect(try await redis.xlen(stream) == 5)

            let read = try await redis.xreadgroup(group: "g", consumer: "alice", streams: [(stream, ">")], count: 3)
            #expect(read.map(\.id) == Array(ids.prefix(3)))
            #expect(read.map(\.stream) == [stream, stream, stream])
            #expect(read[1].fields.map(\.name) == ["n", "blob"])
            #expect(read[1].string("n") == "1")
            #expect(read[1]["blob"] == [0, 1])

            #expect(try await redis.xack(stream, group: "g", ids: [ids[0]]) == 1)
            let pending = try await redis.xpending(stream, group: "g")
            #expect(pending.count == 2)
            #expect(pending.smallestID == ids[1])
            #expect(pending.largestID == ids[2])
            #expect(pending.consumers == ["alice": 2])

            try await Task.sleep(for: .milliseconds(30))
            let claimed = try await redis.xautoclaim(stream, group: "g", consumer: "bob", minIdle: .milliseconds(10), count: 10)
            #expect(claimed.entries.map(\.id) == [ids[1], ids[2]])
            #expect(claimed.next == "0-0")
            #expect(try await redis.xpending(stream, group: "g").consumers == ["bob": 2])

            let rest = try await redis.xreadgroup(group: "g", consumer: "bob", streams: [(stream, ">")])
            #expect(rest.map(\.id) == Array(ids.suffix(2)))
            #expect(try await redis.xreadgroup(group: "g", consumer: "bob", streams: [(stream, ">")]).isEmpty)
        }
    }

    @Test func xaddTrimsApproximately() async throws {
        let stream = TestRedis.uniquePrefix()
        try await withConnection { redis throws in
            for index in 0..<500 { _ = try await redis.xadd(stream, maxLength: 10, fields: [("i", index)]) }
            let length = try await redis.xlen(stream)
            #expect(length >= 10 && length < 500)
        }
    }

    @Test func blockingReadOnDedicatedConnectionWakesOnXADD() async throws {
        let stream = TestRedis.uniquePrefix()
        try await withClient { client throws in
            try await client.xgroupCreate(stream, group: "g", id: "$")
            let dedicated = try await client.makeDedicatedConnection()
            let clock = ContinuousClock()
            let start = clock.now
            async let read = dedicated.xreadgroup(group: "g", consumer: "c", streams: [(stream, ">")], count: 1, block: .seconds(10))
            try await Task.sleep(for: .milliseconds(200))
            let id = try await client.xadd(stream, fields: [("wake", "up")])
            let entries = try await read
            #expect(entries.map(\.id) == [id])
            #expect(entries.first?.string("wake") == "up")
            #expect(clock.now - start < .seconds(5))

            let timedOut = try await dedicated.xreadgroup(group: "g", consumer: "c", streams: [(stream, ">")], block: .milliseconds(100))
            #expect(timedOut.isEmpty)
            await dedicated.close()
        }
    }
}
