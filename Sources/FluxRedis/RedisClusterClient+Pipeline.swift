/// A batch over the cluster: split by the master of each command's slot, one sub-pipeline per
/// master sent concurrently, replies put back in the caller's order.
///
/// - Keyless commands go with the master of slot 0, like `send`.
/// - Elements answered with `MOVED`, `ASK`, `CLUSTERDOWN`, `TRYAGAIN`, `LOADING`, `READONLY` or
///   `MASTERDOWN` did not run; they are re-sent one at a time, in the caller's order, through the
///   same path as `send` (refresh, `ASKING`, bounded retries), and their replies put in place.
///   So within one slot, commands still run in the caller's order; across slots (masters), as
///   with any cluster client, there is no order.
/// - A sub-pipeline whose connection could not be had (`wasNeverSent`) is re-sent the same way.
/// - A sub-pipeline whose connection dropped after writing fails the whole call with that
///   error, as on `RedisClient`: its commands may or may not have run, and other masters' parts
///   did run. Other error replies stay in place as `.error` elements.
extension RedisClusterClient {
    func splitPipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        try await splitPipeline(commands, waitFor: nil).replies
    }

    /// The batch, and with `waitFor` a `WAIT` at the end of every master's part (on the
    /// connection that wrote it): `confirmed` is the fewest replicas any part's `WAIT` counted,
    /// 0 when an element had to be re-sent on its own (no `WAIT` follows it on its connection).
    func splitPipeline(
        _ commands: [RedisCommand], waitFor: (replicas: Int, timeoutMs: Int)?
    ) async throws(RedisError) -> (replies: [RedisReply], confirmed: Int) {
        guard !commands.isEmpty else { return ([], waitFor?.replicas ?? 0) }
        let routes = commands.map(\.clusterRoute)
        let (topology, generation) = try await currentTopology()
        var groups: [RedisClusterEndpoint: [Int]] = [:]
        var leftovers = Leftovers()
        for (index, route) in routes.enumerated() {
            if let endpoint = Self.endpoint(for: route, in: topology) {
                groups[endpoint, default: []].append(index)
            } else {
                leftovers.resend.append((index, .route))
                leftovers.needsRefresh = true
            }
        }
        var replies = [RedisReply](repeating: .null, count: commands.count)
        var confirmed = waitFor?.replicas ?? 0
        for part in await sendParts(groups, of: commands, waitFor: waitFor) {
            if let count = part.confirmed { confirmed = min(confirmed, count) }
            try place(part, into: &replies, leftovers: &leftovers)
        }
        guard !leftovers.resend.isEmpty else { return (replies, confirmed) }
        if leftovers.needsRefresh { await refreshQuietly(after: generation) }
        state.withLock { state in
            for (slot, endpoint) in leftovers.moves { state.applyMoved(slot: slot, to: endpoint) }
        }
        for (index, first) in leftovers.resend.sorted(by: { $0.index < $1.index }) {
            replies[index] = try await execute(commands[index], route: routes[index], first: first)
        }
        return (replies, 0)
    }

    /// Elements to send again, and what the cluster told us on the way.
    private struct Leftovers {
        var resend: [(index: Int, first: FirstTarget)] = []
        /// `MOVED` slots and their new masters, applied after the refresh (which may lag them).
        var moves: [(slot: Int, endpoint: RedisClusterEndpoint)] = []
        var needsRefresh = false
    }

    private struct Part: Sendable {
        let endpoint: RedisClusterEndpoint
        let indices: [Int]
        let outcome: Result<[RedisReply], RedisError>
        /// What the part's `WAIT` counted, when one was sent.
        var confirmed: Int?
    }

    /// Sends each master's commands as one pipeline, all masters at once.
    private func sendParts(
        _ groups: [RedisClusterEndpoint: [Int]], of commands: [RedisCommand], waitFor: (replicas: Int, timeoutMs: Int)?
    ) async -> [Part] {
        await withTaskGroup(of: Part.self) { group in
            for (endpoint, indices) in groups {
                group.addTask { [self] in
                    do throws(RedisError) {
                        var batch = indices.map { commands[$0] }
                        if let waitFor { batch.append(RedisCommand("WAIT", waitFor.replicas, waitFor.timeoutMs)) }
                        var replies = try await pool(for: endpoint).pipeline(batch)
                        let confirmed = waitFor == nil ? nil : Int(replies.popLast()?.int ?? 0)
                        return Part(endpoint: endpoint, indices: indices, outcome: .success(replies), confirmed: confirmed)
                    } catch {
                        return Part(endpoint: endpoint, indices: indices, outcome: .failure(error))
                    }
                }
            }
            var parts: [Part] = []
            for await part in group { parts.append(part) }
            return parts
        }
    }

    /// Puts a part's replies in place and notes the elements to re-send.
    private func place(_ part: Part, into replies: inout [RedisReply], leftovers: inout Leftovers) throws(RedisError) {
        let partReplies: [RedisReply]
        switch part.outcome {
        case .success(let received):
            partReplies = received
        case .failure(let error):
            guard RedisClusterVerdict(.failure(error), replyingHost: part.endpoint.host) == .retry else { throw error }
            leftovers.resend += part.indices.map { ($0, .route) }
            leftovers.needsRefresh = true
            return
        }
        guard partReplies.count == part.indices.count else {
            throw RedisError(code: .protocolError, message: "\(part.endpoint) answered \(partReplies.count) of \(part.indices.count) commands")
        }
        for (index, reply) in zip(part.indices, partReplies) {
            switch RedisClusterVerdict(.success(reply), replyingHost: part.endpoint.host) {
            case .done, .fail:
                replies[index] = reply
            case .redirect(.ask(_, let endpoint)):
                leftovers.resend.append((index, .ask(endpoint)))
            case .redirect(.moved(let slot, let endpoint)):
                leftovers.moves.append((slot, endpoint))
                leftovers.resend.append((index, .route))
                leftovers.needsRefresh = true
            case .retry:
                leftovers.resend.append((index, .route))
                leftovers.needsRefresh = true
            }
        }
    }
}
