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
        if !parkedIngestDone.isEmpty, intake.count < Self.intakeLimit {
            for done in parkedIngestDone { done.resume(returning: true) }
            parkedIngestDone = []
        }
        await writeNodeHealth(nowMs: nowMs)
        guard !work.requests.isEmpty || !work.leftoverAcks.isEmpty || !work.ingestDone.isEmpty
            || !work.messages.isEmpty || !work.changeWaiters.isEmpty || !work.acks.isEmpty
        else { return }
        do {
            var writer = TransitionWriter(redis: driver.redis, leases: driver.leases)
            writer.recordTTLMs = driver.configuration.retention.milliseconds
            writer.ack = replicaAck
            let started = ContinuousClock.now
            let written = try await writer.write(work.requests, nowMs: nowMs)
            if !work.requests.isEmpty { driver.metrics.redisLatency(ContinuousClock.now - started, operation: "transitions") }
            if !written.replicated { try await holdUntilReplicated(slots: written.slots, transitions: work.requests.count) }
            try await acknowledge(work.leftoverAcks)
            for (index, outcome) in written.outcomes.enumerated() {
                handle(outcome, of: work.requests[index], tenant: work.tenants[index], dispatch: work.dispatches[index], nowMs: nowMs)
            }
            for (message, key) in work.messages { driver.sessions.send(message, to: key) }
            for (attempt, key) in work.acks { driver.sessions.send(.ack(attempt), to: key) }
            // A read is answered once taken in (its admissions may wait for later turns), or
            // later, while too much read-ahead waits (`intakeLimit`).
            for done in work.ingestDone {
                if intake.count < Self.intakeLimit { done.resume(returning: true) } else { parkedIngestDone.append(done) }
            }
            for done in work.changeWaiters { done.resume(returning: .success(())) }
        } catch {
            logger.error("writing scheduler decisions failed", metadata: ["error": "\(error)", "transitions": "\(work.requests.count)"])
            driver.redisFailed(error)
            // The consumer reads what is pending again: drop what was read ahead.
            for done in work.ingestDone { done.resume(returning: false) }
            dropIntake()
            let failure = TaskChangeError(code: "redis_unavailable", message: "the coordination store is unreachable")
            for done in work.changeWaiters { done.resume(returning: .failure(failure)) }
        }
    }

    private var replicaAck: ReplicaAck {
        ReplicaAck(replicas: driver.configuration.redisAckReplicas, timeoutMs: Int(driver.configuration.redisAckTimeout.milliseconds))
    }

    /// `--redis-ack replica` and no replica confirmed the turn's writes in time: they are on the
    /// master, and the shard's memory already agrees with them, so nothing is undone. What waits
    /// is everything that depends on them (dispatches, acks to agents, answers to callers):
    /// the shard writes a barrier to each slot it wrote and `WAIT`s behind it until a replica
    /// confirms (a replica that was slow or resyncing catches up), for at most
    /// `SchedulerDriver.replicaHoldLimit`. Past that, or if Redis itself fails, it throws, and the
    /// shard takes it for an outage (READ_ONLY, then a rebuild from Redis).
    private func holdUntilReplicated(slots: [Int], transitions: Int) async throws {
        let ack = replicaAck
        let keys = slots.map { SlotKeys(slot: $0).replicationBarrier }
        let clock = ContinuousClock()
        let started = clock.now
        logger.warning("no replica confirmed the scheduler's writes in time: holding dispatches until one does", metadata: [
            "transitions": "\(transitions)", "slots": "\(slots.count)", "ack_timeout_ms": "\(ack.timeoutMs)",
        ])
        driver.metrics.replicaHeld()
        while clock.now - started < SchedulerDriver.replicaHoldLimit {
            if try await driver.redis.replicasConfirm(ack, barrierKeys: keys, marker: driver.configuration.shardID) {
                logger.info("a replica confirmed the held writes: delivering", metadata: ["held_ms": "\((clock.now - started).milliseconds)"])
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ReplicaAck.notReplicated(0, ack)
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
