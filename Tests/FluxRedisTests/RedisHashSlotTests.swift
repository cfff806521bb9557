import FluxRedis
import Testing

/// Known vectors (from Redis 7.0.15's `CLUSTER KEYSLOT`); `RedisClusterClientTests` checks the same
/// keys against a real cluster in every run.
let knownKeySlots: [(key: String, slot: Int)] = [
    ("123456789", 12_739),
    ("foo", 12_182),
    ("bar", 5_061),
    ("{user1000}.following", 3_443),
    ("{user1000}.followers", 3_443),
    ("foo{}{bar}", 8_363),
    ("foo{{bar}}zap", 4_015),
    ("{bar", 4_015),
    ("foo{bar}{zap}", 5_061),
    ("", 0),
    ("{}", 15_257),
    ("héllo", 11_061),
]

@Suite("CRC16 hash slots and command routing keys (no I/O)")
struct RedisHashSlotTests {
    @Test func crc16OfTheStandardCheckString() {
        #expect(RedisHashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisHashSlot.crc16([UInt8]()) == 0)
    }

    @Test func knownSlots() {
        for (key, slot) in knownKeySlots {
            #expect(RedisHashSlot.slot(forKey: key) == slot, "\(key)")
            #expect(RedisHashSlot.slot(forKey: Array(key.utf8)) == slot, "\(key) as bytes")
        }
    }

    @Test func hashTagsFollowRedisRules() {
        let slot = { (key: String) in RedisHashSlot.slot(forKey: key) }
        #expect(slot("{user1000}.following") == slot("{user1000}.followers"))
        #expect(slot("{user1000}.following") == slot("user1000"))
        #expect(slot("foo{}{bar}") != slot("bar"), "an empty first tag hashes the whole key")
        #expect(slot("foo{{bar}}zap") == slot("{bar"), "the tag runs from the first { to the first } after it")
        #expect(slot("foo{bar}{zap}") == slot("bar"), "only the first tag counts")
        #expect(slot("foo}{bar") == slot("foo}{bar"))
        #expect((0..<2_000).allSatisfy { (0..<RedisHashSlot.count).contains(slot("key:\($0)")) })
    }

    @Test func routingKeysOfTheCommandsFluxForgeSends() {
        func key(_ command: RedisCommand) -> String? { command.routingKey.map { String(decoding: $0, as: UTF8.self) } }
        #expect(key(RedisCommand("GET", "a")) == "a")
        #expect(key(RedisCommand("set", "a", "1")) == "a")
        #expect(key(RedisCommand("XADD", "s", "*", "f", "v")) == "s")
        #expect(key(RedisCommand("EVALSHA", "abc", 2, "k1", "k2", "arg")) == "k1")
        #expect(key(RedisCommand("EVAL", "return 1", 0, "arg")) == nil)
        #expect(key(RedisCommand("EVAL", "return 1", "x")) == nil, "a non-numeric numkeys routes nowhere rather than guessing")
        #expect(key(RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "BLOCK", 100, "STREAMS", "s1", "s2", ">", ">")) == "s1")
        #expect(key(RedisCommand("XREADGROUP", "GROUP", "streams", "STREAMS", "streams", "s1", ">")) == "s1",
                "group and consumer names are skipped even when they read STREAMS")
        #expect(key(RedisCommand("XREAD", "COUNT", 1, "streams", "s9", "0")) == "s9")
        #expect(key(RedisCommand("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")) == "s")
        #expect(key(RedisCommand("XINFO", "STREAM", "s")) == "s")
        #expect(key(RedisCommand("XINFO", "HELP")) == nil)
        #expect(key(RedisCommand("LMPOP", 2, "l1", "l2", "LEFT")) == "l1")
        #expect(key(RedisCommand("BZMPOP", 1, 1, "z", "MIN")) == "z")
        for keyless in [RedisCommand("PING"), RedisCommand("INFO", "server"), RedisCommand("SCRIPT", "LOAD", "return 1"),
                        RedisCommand("CLUSTER", "KEYSLOT", "foo"), RedisCommand("ECHO", "hi"), RedisCommand("FLUSHALL")] {
            #expect(key(keyless) == nil, "\(keyless.name)")
            #expect(keyless.clusterRoute == .anyMaster)
        }
        #expect(key(RedisCommand("SOMEFUTURECOMMAND", "k", "v")) == "k", "unknown commands route by their first argument")
        #expect(RedisCommand("GET", "{user1000}.x").clusterRoute == .slot(3_443))
    }
}
