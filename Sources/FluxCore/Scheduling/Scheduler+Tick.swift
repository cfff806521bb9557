/// What the passage of time does, in this order: time-healed nodes and domains are released (so
/// that what follows sees them); attempts past their timeout fail (`timeout`, with a cancel to the
/// agent); tasks past their deadline end DEADLINE_EXCEEDED; due backoffs re-enter the queue and
/// due deferrals re-run admission; the queue-depth trigger of DEGRADED is evaluated; then waiting
/// tasks are dispatched.
extension Scheduler {
    mutating func tick(now: Timestamp, into out: inout [SchedulerDecision]) {
        for change in registry.reevaluateQuarantined(now: now) { emit(change, now: now, into: &out) }
        for flip in registry.reevaluateThrottled(now: now) { emit(flip, into: &out) }
        fireTimeouts(now: now, into: &out)
        fireDeadlines(now: now, into: &out)
        fireRetries(now: now, into: &out)
        changeMode(modes.observeDepth(waiting: queues.total, configuration: configuration), into: &out)
        dispatchWaiting(now: now, into: &out)
    }

    private mutating func fireTimeouts(now: Timestamp, into out: inout [SchedulerDecision]) {
        while let timer = timeoutTimers.min, timer.at <= now.milliseconds {
            _ = timeoutTimers.popMin()
            let record = store[timer.handle]
            guard record.isLive, record.stamp == timer.check, record.state.isInFlight else { continue }
            out.append(cancelAttempt(timer.handle))
            conclude(timer.handle, outcome: .timedOut, now: now, into: &out)
        }
    }

    private mutating func fireDeadlines(now: Timestamp, into out: inout [SchedulerDecision]) {
        while let timer = deadlineTimers.min, timer.at <= now.milliseconds {
            _ = deadlineTimers.popMin()
            let record = store[timer.handle]
            guard record.isLive, record.life == timer.check, !record.state.isTerminal, record.state != .queued else { continue }
            if record.state.isInFlight { out.append(cancelAttempt(timer.handle)) }
            out.append(.deadlineExceeded(move(timer.handle, to: .deadlineExceeded, reason: .deadline, now: now)))
        }
    }

    private mutating func fireRetries(now: Timestamp, into out: inout [SchedulerDecision]) {
        while let timer = retryTimers.min, timer.at <= now.milliseconds {
            _ = retryTimers.popMin()
            let record = store[timer.handle]
            guard record.isLive, record.stamp == timer.check else { continue }
            switch record.state {
            case .retryWait:
                store[timer.handle].enqueuedAt = now.milliseconds
                let priority = PriorityClass(unchecked: record.priority)
                out.append(.admitted(move(timer.handle, to: .admitted, reason: .retryDue, now: now), priority: priority))
            case .deferred:
                out.append(.requeued(move(timer.handle, to: .queued, reason: .deferredRetry, now: now)))
                admit(timer.handle, now: now, into: &out)
            default:
                continue
            }
        }
    }
}
