import FluxAPI
import FluxRedis
import FluxRuntime
import Foundation

extension DriverLoop {
    /// Writes the turn's transitions in one pipeline, then talks to agents and wakes waiters.
    /// Nothing reaches an agent before Redis holds it: a dispatch the shard could not record
    /// is never sent, so no attempt can run that the timeline does not know about.
    mutating func flush(nowMs: Int64) async {
        let work = turnWork
        turnWork = TurnWork()
        await writeNodeHealth(nowMs: nowMs)
        guard !work.requests.isEmpty || !work.leftoverAcks.isEmpty || !work.ingestDone.isEmpty
            || !work.messages.isEmpty || !work.changeWaiters.isEmpty || !work.acks.isEmpty
        else { return }
        do {
            var writer = TransitionWriter(redis: driver.redis, leases: driver.leases)
            writer.recordTTLMs = driver.configuration.retention.milliseconds
            writer.ack = ReplicaAck(replicas: driver.configuration.redisAckReplicas, timeoutMs: Int(driver.configuration.redisAckTimeout.milliseconds))
            let started = ContinuousClock.now
            let outcomes = try await writer.apply(work.requests, nowMs: nowMs)
            if !work.requests.isEmpty { driver.metrics.redisLatency(ContinuousClock.now - started, operation: "transitions") }
            try await acknowledge(work.leftoverAcks)
            for (index, outcome) in outcomes.enumerated() {
                handle(outcome, of: work.requests[index], tenant: work.tenants[index], dispatch: work.dispatches[index], nowMs: nowMs)
            }
            for (message, key) in work.messages { driver.sessions.send(message, to: key) }
            for (attempt, key) in work.acks { driver.sessions.send(.ack(attempt), to: key) }
            for done in work.ingestDone { done.resume(returning: true) }
            for done in work.changeWaiters { done.resume(returning: .success(())) }
        } catch {
            logger.error("writing scheduler decisions failed", metadata: ["error": "\(error)", "transitions": "\(work.requests.count)"])
            driver.redisFailed(error)
            for done in work.ingestDone { done.resume(returning: false) }
            let failure = TaskChangeError(code: "redis_unavailable", message: "the coordination store is unreachable")
            for done in work.changeWaiters { done.resume(returning: .failure(failure)) }
        }
    }

    private func acknowledge(_ entries: [(slot: Int, entry: String)]) async throws {
        guard !entries.isEmpty else { return }
        _ = try await driver.redis.pipeline(entries.map { RedisCommand("XACK", SlotKeys(slot: $0.slot).ingest, IngestStream.group, $0.entry) })
    }

    private mutating func handle(
        _ outcome: TransitionOutcome, of request: TransitionRequest, tenant: String, dispatch: (key: NodeKey, timeoutMs: Int)?, nowMs: Int64
    ) {
        var metadata = taskMetadata(task: request.taskID, tenant: tenant)
        switch outcome {
        case .applied(_, let command, let env, let createdMs):
            count(request, createdMs: createdMs, nowMs: nowMs)
            guard let dispatch else { return }
            let message = AgentMessage.Dispatch(
                taskId: request.taskID, attempt: request.attempt,
                command: TaskRecord.decode([String].self, command) ?? [],
                env: TaskRecord.decode([String: String].self, env) ?? [:], timeoutMs: dispatch.timeoutMs)
            if !driver.sessions.send(.dispatch(message), to: dispatch.key) {
                metadata["node"] = "\(dispatch.key)"
                logger.warning("dispatched to a node without a session; it will time out", metadata: metadata)
            }
        case .fenced:
            metadata["slot"] = "\(request.slot)"
            logger.error("write fenced: slot lease lost", metadata: metadata)
            driver.leases.drop([request.slot])
            forget(slots: [request.slot], nowMs: WallClock.nowMs())
        case .conflict(let actual):
            metadata["expected"] = "\(request.expected)"
            metadata["actual"] = "\(actual)"
            metadata["slot"] = "\(request.slot)"
            logger.warning("Redis disagrees with the scheduler; rebuilding the slot", metadata: metadata)
            slotsToRebuild.insert(request.slot)
        case .missing:
            logger.warning("task record missing", metadata: metadata)
        case .failed(let message):
            metadata["error"] = "\(message)"
            logger.error("transition script failed", metadata: metadata)
            slotsToRebuild.insert(request.slot)
        }
    }

    /// Metrics of a durable transition: admission outcomes, terminal states, and the
    /// submit→dispatch latency of first attempts.
    private func count(_ request: TransitionRequest, createdMs: Int64?, nowMs: Int64) {
        if request.expected == ["QUEUED"] {
            driver.metrics.admission(decision: request.to.lowercased(), reason: request.reason)
        }
        if request.terminal { driver.metrics.terminal(state: request.to) }
        if request.to == "DISPATCHED", request.attempt == 1, let createdMs {
            driver.metrics.dispatchLatency.recordMilliseconds(max(0, nowMs - createdMs))
        }
    }
}
