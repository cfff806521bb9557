/// One command's way through the cluster: route by slot, attempt, and act on the verdict
/// (`RedisClusterVerdict`) until there is a reply for the caller or the retry policy is spent.
extension RedisClusterClient {
    /// Where the first attempt goes: by the routing table, or straight to the node an `ASK`
    /// named (a pipeline element re-sent after an `ASK`).
    enum FirstTarget {
        case route
        case ask(RedisClusterEndpoint)
    }

    /// Runs `command` and returns its reply; error replies come back as `.error`, not thrown.
    /// Throws when the command failed in a way that is not retried, or the policy is spent.
    func execute(_ command: RedisCommand, route: RedisClusterRoute, first: FirstTarget = .route) async throws(RedisError) -> RedisReply {
        let clock = ContinuousClock()
        let start = clock.now
        var asking: RedisClusterEndpoint?
        if case .ask(let endpoint) = first { asking = endpoint }
        var attemptNumber = 1
        while true {
            let (endpoint, generation) = try await target(for: route, asking: asking)
            let outcome: Result<RedisReply, RedisError>
            if let endpoint {
                outcome = await attempt(command, on: endpoint, asking: asking != nil)
            } else {
                outcome = .success(.error("CLUSTERDOWN no master owns the slot of this command in the topology"))
            }
            asking = nil
            let verdict = RedisClusterVerdict(outcome, replyingHost: endpoint?.host ?? "127.0.0.1")
            switch verdict {
            case .done:
                return try outcome.get()
            case .fail:
                throw Self.failure(of: outcome)
            case .redirect, .retry:
                let elapsed = clock.now - start
                guard attemptNumber < retryPolicy.maximumAttempts, elapsed < retryPolicy.totalBudget else {
                    throw Self.givingUp(command, outcome, attempts: attemptNumber, elapsed: elapsed, node: endpoint)
                }
                asking = await prepareRetry(after: verdict, attempt: attemptNumber, generation: generation)
            }
            attemptNumber += 1
        }
    }

    /// Does what must happen before the next attempt; returns the node to `ASK`, if any.
    private func prepareRetry(after verdict: RedisClusterVerdict, attempt: Int, generation: Int) async -> RedisClusterEndpoint? {
        switch verdict {
        case .redirect(.ask(_, let endpoint)):
            return endpoint
        case .redirect(.moved(let slot, let endpoint)):
            await refreshQuietly(after: generation)
            state.withLock { $0.applyMoved(slot: slot, to: endpoint) }
            return nil
        default:
            try? await Task.sleep(for: retryPolicy.backoff(afterAttempt: attempt))
            await refreshQuietly(after: generation)
            return nil
        }
    }

    /// A refresh whose failure only costs the next attempt its accuracy: that attempt goes by
    /// the old table, fails again if it is wrong, and is counted against the policy.
    func refreshQuietly(after generation: Int) async {
        do {
            _ = try await refreshedTopology(after: generation)
        } catch {
            logger.debug("redis cluster topology refresh failed", metadata: ["error": "\(error)"])
        }
    }

    /// The node for the next attempt (nil when no master owns the slot) and the topology
    /// generation the choice was made from.
    private func target(for route: RedisClusterRoute, asking: RedisClusterEndpoint?) async throws(RedisError)
        -> (RedisClusterEndpoint?, Int)
    {
        let (topology, generation) = try await currentTopology()
        if let asking { return (asking, generation) }
        return (Self.endpoint(for: route, in: topology), generation)
    }

    /// The master for a route: the slot's owner, or for a keyless command the owner of slot 0
    /// (any master would do; one fixed choice keeps a keyless command's effects in one place).
    static func endpoint(for route: RedisClusterRoute, in topology: RedisClusterTopology) -> RedisClusterEndpoint? {
        switch route {
        case .slot(let slot): topology.master(forSlot: slot)
        case .anyMaster: topology.master(forSlot: 0) ?? topology.masterEndpoints.first
        }
    }

    /// One attempt on `endpoint`'s pool. With `asking`, `ASKING` and the command go as one
    /// pipeline, so they share a connection and nothing comes between them.
    func attempt(_ command: RedisCommand, on endpoint: RedisClusterEndpoint, asking: Bool) async -> Result<RedisReply, RedisError> {
        do {
            let pool = try pool(for: endpoint)
            if asking {
                let replies = try await pool.pipeline([RedisCommand("ASKING"), command])
                guard replies.count == 2 else {
                    return .failure(RedisError(code: .protocolError, message: "ASKING pipeline got \(replies.count) replies"))
                }
                return .success(replies[1])
            }
            return .success(try await pool.send(command))
        } catch where error.code == .server {
            return .success(.error(error.message))
        } catch {
            return .failure(error)
        }
    }

    private static func failure(of outcome: Result<RedisReply, RedisError>) -> RedisError {
        if case .failure(let error) = outcome { return error }
        return RedisError(code: .protocolError, message: "a reply judged a failure")  // not reached: replies are `done` or retried
    }

    /// The last outcome as an error, with how hard the client tried: a server error keeps its
    /// text first, so `serverErrorPrefix` still names it (`CLUSTERDOWN`, `MOVED`, …).
    private static func givingUp(
        _ command: RedisCommand, _ outcome: Result<RedisReply, RedisError>, attempts: Int, elapsed: Duration,
        node: RedisClusterEndpoint?
    ) -> RedisError {
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let context = "(Redis cluster: gave up on \(command.name) after \(attempts) attempts in \(milliseconds) ms, "
            + "last at \(node.map { "\($0)" } ?? "no node"))"
        switch outcome {
        case .success(let reply):
            return RedisError(code: .server, message: "\(reply.string ?? "\(reply)") \(context)")
        case .failure(let error):
            return RedisError(code: error.code, message: "\(error.message) \(context)", wasNeverSent: error.wasNeverSent)
        }
    }
}
