/// Reading the topology: on first use, after `MOVED`, and while retrying through a failover.
/// Refreshes are coalesced: whoever finds none running starts one, everyone else awaits it, and
/// a caller who saw an older generation than the installed one just uses the installed one.
extension RedisClusterClient {
    /// The installed topology and its generation, reading it first if there is none yet.
    func currentTopology() async throws(RedisError) -> (topology: RedisClusterTopology, generation: Int) {
        let installed = state.withLock { state in state.topology.map { ($0, state.generation) } }
        if let installed { return installed }
        return try await refreshedTopology(after: 0)
    }

    /// A topology newer than generation `seen`: the installed one if it is newer, else the one
    /// the refresh in flight (or a new one) reads.
    func refreshedTopology(after seen: Int) async throws(RedisError) -> (topology: RedisClusterTopology, generation: Int) {
        let action = state.withLock { state in
            state.refresh(after: seen) {
                Task { [self] in
                    let result = await discover()
                    self.state.withLock { $0.refreshFinished(result) }
                    return result
                }
            }
        }
        switch action {
        case .use(let topology, let generation):
            return (topology, generation)
        case .fail(let error):
            throw error
        case .wait(let task):
            let topology = try await task.value.get()
            return (topology, state.withLock { $0.generation })
        }
    }

    /// Asks known nodes (masters first, then replicas), then the seeds, for `CLUSTER SHARDS`
    /// until one answers with a topology that covers some slots. Each is asked on a connection
    /// of its own, closed after: a refresh is rare, and a pooled connection to a dead master
    /// would only report its backoff.
    private func discover() async -> Result<RedisClusterTopology, RedisError> {
        let known = state.withLock { $0.topology?.allEndpoints ?? [] }
        var candidates = known
        for seed in seeds {
            let endpoint = RedisClusterEndpoint(host: seed.host, port: seed.port)
            if !candidates.contains(endpoint) { candidates.append(endpoint) }
        }
        var failures: [String] = []
        for endpoint in candidates {
            if Task.isCancelled { return .failure(.cancelled()) }
            do {
                let topology = try await readTopology(from: endpoint)
                logger.debug("redis cluster topology read", metadata: [
                    "node": "\(endpoint)", "masters": "\(topology.masterEndpoints.count)",
                    "uncoveredSlots": "\(topology.uncoveredSlotCount)",
                ])
                return .success(topology)
            } catch {
                failures.append("\(endpoint): \(error.message)")
            }
        }
        return .failure(RedisError(
            code: .connectionRefused,
            message: "no Redis cluster node gave a topology (asked \(candidates.count)): \(failures.joined(separator: "; "))"
        ))
    }

    private func readTopology(from endpoint: RedisClusterEndpoint) async throws(RedisError) -> RedisClusterTopology {
        let connection = try await RedisConnection.connect(configuration: configuration(for: endpoint), eventLoop: group.next(), logger: logger)
        let reply: RedisReply
        do {
            reply = try await connection.send(RedisCommand("CLUSTER", "SHARDS"))
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        let topology = try RedisClusterTopology(shardsReply: reply, fallbackHost: endpoint.host)
        guard topology.uncoveredSlotCount < RedisHashSlot.count else {
            throw RedisError(code: .server, message: "CLUSTERDOWN the node reports no master owning any slot")
        }
        return topology
    }
}
