public import FluxRedis

/// What tests ask of a running cluster: who owns a slot, whether it is healthy, and changes
/// made behind a client's back (a slot migrated, a master killed).
extension RedisClusterProcess {
    /// The topology as a running node reports it (the first that answers).
    public func topology() async throws -> RedisClusterTopology {
        var failures: [String] = []
        for port in runningPorts {
            do {
                return try RedisClusterTopology(shardsReply: try await command(RedisCommand("CLUSTER", "SHARDS"), port: port))
            } catch {
                failures.append("\(port): \(error)")
            }
        }
        throw HarnessError("no cluster node answered CLUSTER SHARDS: \(failures)")
    }

    /// The client port of the master that owns `slot` now.
    public func masterPort(forSlot slot: Int) async throws -> Int {
        guard let endpoint = try await topology().master(forSlot: slot) else { throw HarnessError("no master owns slot \(slot)") }
        return endpoint.port
    }

    /// The node id (`CLUSTER MYID`) of the node on `port`.
    public func nodeID(port: Int) async throws -> String {
        let reply = try await command(RedisCommand("CLUSTER", "MYID"), port: port)
        guard let id = reply.string, !id.isEmpty else { throw HarnessError("CLUSTER MYID on \(port) gave \(reply)") }
        return id
    }

    /// SIGKILLs a master; its replica takes over after about the node timeout plus an election.
    public func kill(master port: Int) {
        kill(port: port)
    }

    /// Moves `slot` with its keys to the master on `port`: `beginMigration`, `moveKeys`,
    /// `finishMigration`, as `redis-cli --cluster reshard` does.
    public func migrateSlot(_ slot: Int, to port: Int) async throws {
        let source = try await beginMigration(slot: slot, to: port)
        try await moveKeys(slot: slot, from: source, to: port)
        try await finishMigration(slot: slot, to: port)
    }

    /// Marks `slot` IMPORTING on the master on `port` and MIGRATING on its owner; returns the
    /// owner's port. Keys not moved yet still answer on the owner; missing ones get `ASK`.
    @discardableResult
    public func beginMigration(slot: Int, to port: Int) async throws -> Int {
        let source = try await masterPort(forSlot: slot)
        guard source != port else { throw HarnessError("slot \(slot) is already on \(port)") }
        let (sourceID, targetID) = (try await nodeID(port: source), try await nodeID(port: port))
        try await expectOK(RedisCommand("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID), port: port)
        try await expectOK(RedisCommand("CLUSTER", "SETSLOT", slot, "MIGRATING", targetID), port: source)
        return source
    }

    /// `MIGRATE`s every key of `slot` from `source` to the node on `port`, 100 at a time.
    public func moveKeys(slot: Int, from source: Int, to port: Int) async throws {
        for _ in 0..<1_000 {
            let reply = try await command(RedisCommand("CLUSTER", "GETKEYSINSLOT", slot, 100), port: source)
            guard let keys = reply.array?.compactMap(\.bytes), !keys.isEmpty else { return }
            var migrate = RedisCommand("MIGRATE", "127.0.0.1", port, "", 0, 5_000, "KEYS")
            for key in keys { migrate.append(key) }
            try await expectOK(migrate, port: source)
        }
        throw HarnessError("slot \(slot) still had keys on \(source) after 1000 MIGRATE rounds")
    }

    /// Assigns `slot` to the master on `port` on it and on every other running master.
    public func finishMigration(slot: Int, to port: Int) async throws {
        let targetID = try await nodeID(port: port)
        let masters = try await topology().masterEndpoints.map(\.port).filter { $0 != port && runningPorts.contains($0) }
        for node in [port] + masters {
            try await expectOK(RedisCommand("CLUSTER", "SETSLOT", slot, "NODE", targetID), port: node)
        }
    }

    /// Waits until every running node says `cluster_state:ok` with all 16384 slots ok and its
    /// view puts every slot on a running master; with `replicasInSync`, also until every master
    /// owning slots reports that many replicas with `state=online` (`INFO replication`: synced).
    /// Throws after `timeout`, naming what it saw last.
    public func waitUntilHealthy(timeout: Duration = .seconds(30), replicasInSync: Int = 0) async throws {
        let deadline = ContinuousClock.now + timeout
        var problem = "not checked yet"
        while ContinuousClock.now < deadline {
            if let found = await healthProblem(replicasInSync: replicasInSync) {
                problem = found
                try await Task.sleep(for: .milliseconds(100))
            } else {
                return
            }
        }
        throw HarnessError("the Redis cluster did not become healthy within \(timeout): \(problem)")
    }

    /// What is still wrong with the cluster, or nil when it is healthy.
    private func healthProblem(replicasInSync: Int) async -> String? {
        let running = runningPorts
        for port in running {
            do {
                let info = try await command(RedisCommand("CLUSTER", "INFO"), port: port).string ?? ""
                guard info.contains("cluster_state:ok"), info.contains("cluster_slots_ok:16384") else {
                    return "node \(port): \(info.split(separator: "\r\n").prefix(3).joined(separator: ", "))"
                }
                let topology = try RedisClusterTopology(shardsReply: try await command(RedisCommand("CLUSTER", "SHARDS"), port: port))
                if topology.uncoveredSlotCount > 0 { return "node \(port) sees \(topology.uncoveredSlotCount) uncovered slots" }
                if let dead = topology.masterEndpoints.first(where: { !running.contains($0.port) && owns(topology, $0) }) {
                    return "node \(port) still routes slots to the stopped master \(dead)"
                }
                if replicasInSync > 0, topology.masterEndpoints.contains(where: { $0.port == port && owns(topology, $0) }) {
                    let replication = try await command(RedisCommand("INFO", "replication"), port: port).string ?? ""
                    let synced = replication.split(separator: "\r\n").count { $0.hasPrefix("slave") && $0.contains("state=online") }
                    if synced < replicasInSync { return "master \(port) has \(synced) of \(replicasInSync) replicas in sync" }
                }
            } catch {
                return "node \(port): \(error)"
            }
        }
        return nil
    }

    private func owns(_ topology: RedisClusterTopology, _ endpoint: RedisClusterEndpoint) -> Bool {
        topology.shards.contains { $0.master.endpoint == endpoint && !$0.slotRanges.isEmpty }
    }

    private func expectOK(_ command: RedisCommand, port: Int) async throws {
        let reply = try await self.command(command, port: port)
        guard reply == .simpleString("OK") else { throw HarnessError("\(command.name) on \(port) answered \(reply)") }
    }
}
