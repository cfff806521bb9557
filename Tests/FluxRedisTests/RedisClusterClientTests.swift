import FluxRedis
import FluxTesting
import Testing

/// `RedisClusterClient` against real clusters: 3 masters + 3 replicas of `redis-server
/// --cluster-enabled yes` on 127.0.0.1, one fresh cluster per test (tests kill masters and move
/// slots). Serialized: six nodes per test is enough load for a 2-core machine, and the failover
/// test measures time.
@Suite("RedisClusterClient on a real 3+3 Redis Cluster", .serialized, .timeLimit(.minutes(2)))
struct RedisClusterClientTests {
    @Test func hashSlotsMatchTheServersKeyslot() async throws {
        try await withCluster { _, client in
            var generator = SystemRandomNumberGenerator()
            let random = (0..<300).map { _ in (0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
            let keys = knownKeySlots.map { Array($0.key.utf8) } + random + [Array("{".utf8), Array("}{x}".utf8)]
            let replies = try await client.pipeline(keys.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
            for (key, reply) in zip(keys, replies) {
                #expect(reply.int.map(Int.init) == RedisHashSlot.slot(forKey: key), "key bytes \(key)")
            }
            for (key, slot) in knownKeySlots { #expect(RedisHashSlot.slot(forKey: key) == slot) }
        }
    }

    @Test func setAndGetReachEveryMaster() async throws {
        try await withCluster { cluster, client in
            let topology = try await client.topology()
            #expect(topology.masterEndpoints.count == 3)
            let serverView = try await cluster.topology()
            #expect((0..<RedisHashSlot.count).allSatisfy { topology.master(forSlot: $0) == serverView.master(forSlot: $0) },
                    "the client read the cluster's own view")
            let keys = keysOnEveryMaster(of: topology, prefix: "plain")
            #expect(Set(keys.keys) == Set(topology.masterEndpoints), "one key per master, so every master is exercised")
            for (master, key) in keys {
                #expect(try await client.send(RedisCommand("SET", key, "value of \(key)")) == .simpleString("OK"))
                #expect(try await client.send(RedisCommand("GET", key)) == .bulk(Array("value of \(key)".utf8)))
                // Really stored on that master: asked directly, it answers without MOVED.
                let direct = try await cluster.command(RedisCommand("GET", key), port: master.port)
                #expect(direct == .bulk(Array("value of \(key)".utf8)))
                let dedicated = try await client.makeDedicatedConnection(forKey: key)
                #expect(dedicated.configuration.port == master.port)
                #expect(try await dedicated.send(RedisCommand("GET", key)) == .bulk(Array("value of \(key)".utf8)))
                await dedicated.close()
            }
            #expect(try await redirections(in: cluster) == 0, "every command went straight to its master")
            let error = await redisError { _ = try await client.send(RedisCommand("INCR", keys.values.first ?? "")) }
            #expect(error?.serverErrorPrefix == "ERR", "an ordinary error reply is thrown, not retried")
        }
    }

    @Test func pipelineOfThreeHundredCommandsKeepsTheCallersOrder() async throws {
        try await withCluster { cluster, client in
            let topology = try await client.topology()
            var commands: [RedisCommand] = []
            var expected: [RedisReply] = []
            var masters = Set<RedisClusterEndpoint>()
            for index in 0..<100 {
                let key = "pipe:\(index)"
                masters.insert(try #require(topology.master(forSlot: RedisHashSlot.slot(forKey: key))))
                commands += [RedisCommand("SET", key, "v\(index)"), RedisCommand("GET", key), RedisCommand("ECHO", "e\(index)")]
                expected += [.simpleString("OK"), .bulk(Array("v\(index)".utf8)), .bulk(Array("e\(index)".utf8))]
            }
            #expect(masters.count == 3, "the batch spans every master")
            let replies = try await client.pipeline(commands)
            #expect(replies.count == 300)
            for index in replies.indices { #expect(replies[index] == expected[index], "element \(index)") }
            #expect(try await redirections(in: cluster) == 0, "each part went straight to its master")
            let withError = try await client.pipeline([RedisCommand("GET", "pipe:1"), RedisCommand("INCR", "pipe:1")])
            #expect(withError[0] == .bulk(Array("v1".utf8)))
            #expect(withError[1].string?.hasPrefix("ERR") == true, "error replies stay in place")
        }
    }

    @Test func scriptRunsOnEveryMasterAndLoadsWhereMissing() async throws {
        try await withCluster { _, client in
            let topology = try await client.topology()
            let tags = keysOnEveryMaster(of: topology, prefix: "s") { "{s\($0)}" }
            let script = RedisScript("""
                local total = redis.call('INCRBY', KEYS[1], ARGV[1])
                redis.call('SET', KEYS[2], total)
                return total
                """)
            for tag in tags.values {
                #expect(try await client.evaluate(script, keys: ["\(tag):a", "\(tag):b"], arguments: [5]) == .integer(5))
                #expect(try await client.evaluate(script, keys: ["\(tag):a", "\(tag):b"], arguments: [2]) == .integer(7))
                #expect(try await client.send(RedisCommand("GET", "\(tag):b")) == .bulk(Array("7".utf8)))
            }
            let sha = try #require(script.sha)
            let exists = try await client.sendToEveryMaster(RedisCommand("SCRIPT", "EXISTS", sha))
            #expect(exists.count == 3)
            #expect(exists.values.allSatisfy { $0 == .array([.integer(1)]) }, "loaded on every master: \(exists)")
            let batch = try await client.pipeline(tags.values.map { script.command(keys: ["\($0):a", "\($0):b"], arguments: [1]) })
            #expect(batch == Array(repeating: .integer(8), count: tags.count))
        }
    }

    @Test func movedAfterASlotMigrationRefreshesTheTopology() async throws {
        try await withCluster { cluster, client in
            let topology = try await client.topology()
            let keys = keysOnEveryMaster(of: topology, prefix: "moved")
            let masters = topology.masterEndpoints
            let (first, second, third) = (try #require(keys[masters[0]]), try #require(keys[masters[1]]), try #require(keys[masters[2]]))
            for key in [first, second, third] { _ = try await client.send(RedisCommand("SET", key, "at \(key)")) }
            let (firstSlot, thirdSlot) = (RedisHashSlot.slot(forKey: first), RedisHashSlot.slot(forKey: third))

            // Behind the client's back: `first` moves to the second master, `third` to the first.
            try await cluster.migrateSlot(firstSlot, to: masters[1].port)
            try await cluster.migrateSlot(thirdSlot, to: masters[0].port)
            let replies = try await client.pipeline([
                RedisCommand("GET", first), RedisCommand("GET", second), RedisCommand("SET", first, "again"), RedisCommand("GET", first),
            ])
            #expect(replies == [.bulk(Array("at \(first)".utf8)), .bulk(Array("at \(second)".utf8)), .simpleString("OK"), .bulk(Array("again".utf8))])
            #expect(try await redirections(in: cluster) > 0, "the client's stale table did send commands to the old master")
            let refreshed = try await client.topology()
            #expect(refreshed.master(forSlot: firstSlot) == masters[1])
            // Only a refresh knows this one: no command on `third` was sent since it moved.
            #expect(refreshed.master(forSlot: thirdSlot) == masters[0])

            try await cluster.migrateSlot(firstSlot, to: masters[2].port)
            #expect(try await client.send(RedisCommand("GET", first)) == .bulk(Array("again".utf8)))
            #expect(try await client.topology().master(forSlot: firstSlot) == masters[2])
        }
    }

    @Test func askDuringAMigrationReadsTheMovedKeyFromTheTarget() async throws {
        try await withCluster { cluster, client in
            let (moved, stays) = ("{ask}:moved", "{ask}:stays")
            let slot = RedisHashSlot.slot(forKey: moved)
            _ = try await client.pipeline([RedisCommand("SET", moved, "over there"), RedisCommand("SET", stays, "right here")])
            let topology = try await client.topology()
            let source = try #require(topology.master(forSlot: slot))
            let target = try #require(topology.masterEndpoints.first { $0 != source })

            // Mid-migration: IMPORTING on the target, MIGRATING on the source, one key moved.
            try await cluster.beginMigration(slot: slot, to: target.port)
            let migrate = try await cluster.command(RedisCommand("MIGRATE", "127.0.0.1", target.port, moved, 0, 5_000), port: source.port)
            #expect(migrate == .simpleString("OK"))
            let plain = await redisError { _ = try await cluster.command(RedisCommand("GET", moved), port: source.port) }
            #expect(plain?.serverErrorPrefix == "ASK", "the source redirects: \(String(describing: plain))")

            #expect(try await client.send(RedisCommand("GET", moved)) == .bulk(Array("over there".utf8)))
            #expect(try await client.send(RedisCommand("GET", stays)) == .bulk(Array("right here".utf8)))
            let batch = try await client.pipeline([RedisCommand("GET", stays), RedisCommand("GET", moved), RedisCommand("GET", stays)])
            #expect(batch == [.bulk(Array("right here".utf8)), .bulk(Array("over there".utf8)), .bulk(Array("right here".utf8))])
            #expect(try await client.topology().master(forSlot: slot) == source, "ASK changes no routing")
        }
    }

    @Test func masterFailoverIsRiddenOutWithBoundedCalls() async throws {
        try await withCluster { cluster, client in
            let topology = try await client.topology()
            let key = "failover:key"
            let slot = RedisHashSlot.slot(forKey: key)
            let master = try #require(topology.master(forSlot: slot))
            // Written on the master and acknowledged by its replica, so the promoted one has it.
            let direct = try await RedisConnection.connect(configuration: cluster.configuration(port: master.port))
            _ = try await direct.send(RedisCommand("SET", key, "kept"))
            #expect(try await direct.send(RedisCommand("WAIT", 1, 5_000)) == .integer(1))
            await direct.close()
            #expect(try await client.send(RedisCommand("GET", key)) == .bulk(Array("kept".utf8)))

            cluster.kill(master: master.port)
            let clock = ContinuousClock()
            let killedAt = clock.now
            var failures: [RedisError] = []
            var recoveredAfter: Duration?
            while recoveredAfter == nil, clock.now - killedAt < .seconds(15) {
                let callStart = clock.now
                do {
                    #expect(try await client.send(RedisCommand("GET", key)) == .bulk(Array("kept".utf8)))
                    recoveredAfter = clock.now - killedAt
                } catch let error as RedisError {
                    failures.append(error)
                    try await Task.sleep(for: .milliseconds(100))
                } catch {
                    Issue.record("not a RedisError: \(error)")
                }
                #expect(clock.now - callStart < .seconds(6), "one call took \(clock.now - callStart): a hang, not a bounded retry")
            }
            let recovered = try #require(recoveredAfter, "no success within 15 s of the kill; errors: \(failures)")
            for failure in failures {
                #expect([.connectionRefused, .connectionLost, .server].contains(failure.code), "\(failure)")
                #expect(failure.code != .server || failure.serverErrorPrefix == "CLUSTERDOWN", "\(failure)")
            }
            let promoted = try #require(try await client.topology().master(forSlot: slot))
            #expect(promoted != master)
            #expect(try await client.send(RedisCommand("SET", key, "after")) == .simpleString("OK"))
            print("failover: recovered \(recovered) after the kill, \(failures.count) failed calls before: \(failures.map(\.description))")
        }
    }
}

/// Starts a fresh cluster and a client seeded with two of its nodes, runs `body`, and always
/// closes the client and stops the cluster.
private func withCluster(_ body: (RedisClusterProcess, RedisClusterClient) async throws -> Void) async throws {
    let cluster = try await RedisClusterProcess()
    let client = RedisClusterClient(seeds: Array(cluster.seedConfigurations.prefix(2)))
    do {
        try await body(cluster, client)
    } catch {
        await client.close()
        cluster.stop()
        throw error
    }
    await client.close()
    cluster.stop()
}

/// One key per master: `prefix:N` (or `make(N)`) for the smallest N whose slot the master owns.
private func keysOnEveryMaster(
    of topology: RedisClusterTopology, prefix: String, make: ((Int) -> String)? = nil
) -> [RedisClusterEndpoint: String] {
    var keys: [RedisClusterEndpoint: String] = [:]
    for index in 0..<10_000 where keys.count < topology.masterEndpoints.count {
        let key = make?(index) ?? "\(prefix):\(index)"
        if let master = topology.master(forSlot: RedisHashSlot.slot(forKey: key)), keys[master] == nil { keys[master] = key }
    }
    return keys
}

/// `MOVED` and `ASK` replies the running nodes have sent so far (`INFO errorstats`).
private func redirections(in cluster: RedisClusterProcess) async throws -> Int {
    var total = 0
    for port in cluster.runningPorts {
        let info = try await cluster.command(RedisCommand("INFO", "errorstats"), port: port).string ?? ""
        for line in info.split(separator: "\r\n") where line.hasPrefix("errorstat_MOVED:") || line.hasPrefix("errorstat_ASK:") {
            total += line.split(separator: "=").last.flatMap { Int($0) } ?? 0
        }
    }
    return total
}
