import FluxAPI
import FluxCore

extension DriverLoop {
    /// Translates one agent frame into a core event. Results are remembered so the transition
    /// they cause carries them into the task record, and are acknowledged once durable.
    mutating func agentMessage(_ message: AgentMessage, from key: NodeKey, nowMs: Int64) {
        guard let (tenant, node) = Self.ids(key) else { return }
        let now = Timestamp(milliseconds: nowMs)
        dirtyNodes.insert(key)
        if let attempt = Self.attempt(of: message) {
            if case .finished = message { turnWork.acks.append((attempt, key)) }
            if case .rejected = message { turnWork.acks.append((attempt, key)) }
            let id = try? TaskID(attempt.taskId)
            if let rejection = id.map({ frameRejection(key, taskID: $0, attempt: attempt.attempt, now: now) }) ?? "bad_task_id" {
                driver.metrics.agentFrameRejected(reason: rejection)
                var metadata = taskMetadata(task: attempt.taskId, tenant: key.tenant)
                metadata["node"] = "\(key)"
                metadata["attempt"] = "\(attempt.attempt)"
                metadata["type"] = "\(message.type)"
                metadata["reason"] = "\(rejection)"
                logger.warning("agent frame for an attempt the session does not hold; dropped", metadata: metadata)
                return
            }
            turnWork.attempts[attempt.taskId] = (key.node, attempt.attempt)
        }
        switch message {
        case .started(let attempt):
            guard let id = try? TaskID(attempt.taskId) else { return }
            apply(scheduler.handle(.taskStarted(id, attempt: attempt.attempt), now: now), nowMs: nowMs)
        case .finished(let finished):
            guard let id = try? TaskID(finished.taskId) else { return }
            turnWork.results[finished.taskId] = Self.resultFields(finished)
            apply(scheduler.handle(.taskFinished(id, attempt: finished.attempt, outcome: Self.outcome(finished)), now: now), nowMs: nowMs)
        case .rejected(let rejected):
            guard let id = try? TaskID(rejected.taskId) else { return }
            turnWork.results[rejected.taskId] = [("output_tail", "agent rejected: " + String(rejected.reason.prefix(200)))]
            apply(scheduler.handle(.taskFinished(id, attempt: rejected.attempt, outcome: .agentRejected), now: now), nowMs: nowMs)
        case .health(let health):
            apply(scheduler.handle(.agentHealthReported(tenant: tenant, node: node, report: health.selfScore), now: now), nowMs: nowMs)
        case .pong(let probe):
            guard let ping = pings[key], ping.nonce == probe.nonce else { return }
            pings[key] = nil
            let roundTrip = Duration.milliseconds(max(0, nowMs - ping.atMs))
            apply(scheduler.handle(.probeCompleted(tenant: tenant, node: node, result: .ok(roundTrip: roundTrip)), now: now), nowMs: nowMs)
        default:
            logger.debug("agent frame ignored", metadata: ["node": "\(key)", "type": "\(message.type)"])
        }
    }

    static func attempt(of message: AgentMessage) -> AgentMessage.TaskAttempt? {
        switch message {
        case .started(let attempt), .accepted(let attempt): attempt
        case .finished(let finished): .init(taskId: finished.taskId, attempt: finished.attempt)
        case .rejected(let rejected): .init(taskId: rejected.taskId, attempt: rejected.attempt)
        default: nil
        }
    }

    static func outcome(_ finished: AgentMessage.Finished) -> TaskOutcome {
        if finished.timedOut { return .timedOut }
        if finished.exitCode == 0 { return .succeeded }
        return .exitCode(Int32(clamping: finished.exitCode))
    }

    static func resultFields(_ finished: AgentMessage.Finished) -> [(String, String)] {
        [("exit_code", String(finished.exitCode)), ("output_tail", Self.tail(finished.outputTail, bytes: 8_192)),
         ("duration_ms", String(max(0, finished.durationMs)))]
    }

    /// The last `bytes` bytes of `text` (not characters: one emoji is up to 4 bytes, one grapheme
    /// many more), starting on a character boundary.
    static func tail(_ text: String, bytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > bytes else { return text }
        var start = utf8.index(utf8.endIndex, offsetBy: -bytes)
        while start < utf8.endIndex, utf8[start] & 0xC0 == 0x80 { start = utf8.index(after: start) }
        return String(text.utf8[start...]) ?? ""
    }
}
