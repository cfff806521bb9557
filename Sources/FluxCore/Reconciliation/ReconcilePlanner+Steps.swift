/// The per-node steps: what a finished task means, and what time makes due.
extension ReconcilePlanner {
    /// Applies the result of the task the node waits for, if it has finished.
    mutating func resolveTask(of id: String, results: [String: ReconcileTaskResult]) {
        guard let record = plan.states[id], let taskID = record.taskID else { return }
        let result = results[taskID] ?? .errored("task_missing")
        if result == .pending { return }
        guard record.generation == policy.generation, record.state != .paused, record.state != .nodeGone else {
            // Work of an older generation: its answer no longer means anything.
            update(id, with: { $0.taskID = nil })
            resetIfStale(id)
            return
        }
        switch record.state {
        case .checking: checkFinished(id, result, taskID: taskID)
        case .remediating: applyFinished(id, result, taskID: taskID)
        case .verifying: verificationFinished(id, result, taskID: taskID)
        default: update(id, with: { $0.taskID = nil })
        }
    }

    private mutating func checkFinished(_ id: String, _ result: ReconcileTaskResult, taskID: String) {
        let now = nowMs
        switch result {
        case .exited(0):
            move(id, to: .inSync, .checkPassed, taskID: taskID, exitCode: 0) { [policy] record in
                record.clearTask(exitCode: 0, checkedAt: now)
                record.failures = 0
                record.failedOnNode = false
                record.driftStartedAtMs = nil
                record.nextCheckAtMs = now + policy.interval
            }
        case .exited(let code):
            let exhausted = (plan.states[id]?.failures ?? 0) >= policy.retry.maxAttempts
            // Counted once per episode: a node still drifted on a later check is not a new drift.
            if plan.states[id]?.driftStartedAtMs == nil { plan.events.append(.driftDetected(node: id)) }
            move(id, to: exhausted ? .failed : .drifted, exhausted ? .retriesExhausted : .driftDetected, taskID: taskID, exitCode: code) { [policy] record in
                record.clearTask(exitCode: code, checkedAt: now)
                record.driftSeq += 1
                record.lastDriftAtMs = now
                record.driftStartedAtMs = record.driftStartedAtMs ?? now
                record.nextCheckAtMs = now + policy.interval
            }
        case .errored, .pending:
            move(id, to: .unknown, .checkError, taskID: taskID) { [policy] record in
                record.taskID = nil
                record.nextCheckAtMs = now + min(policy.interval, policy.verifyEvery)
            }
        }
    }

    private mutating func applyFinished(_ id: String, _ result: ReconcileTaskResult, taskID: String) {
        let now = nowMs
        if case .exited(0) = result {
            plan.events.append(.remediation(node: id, outcome: "applied"))
            move(id, to: .verifying, .applySucceeded, taskID: taskID, exitCode: 0) { [policy] record in
                record.taskID = nil
                record.lastExitCode = 0
                record.lastRemediationTaskID = taskID
                record.verifyDeadlineAtMs = now + policy.verifyDeadline
                record.nextCheckAtMs = now
            }
            return
        }
        // An apply that never ran (refused at admission, shed, cancelled, past its deadline, lost
        // with its node) says nothing about the zone: backoff, but no step toward a halt.
        let ranAndFailed = result.exitCode != nil
        plan.events.append(.remediation(node: id, outcome: ranAndFailed ? "apply_failed" : "apply_not_run"))
        fail(id, reason: ranAndFailed ? .applyFailed : .applyNotRun, taskID: taskID, exitCode: result.exitCode) { record in
            record.lastRemediationTaskID = taskID
            record.failedOnNode = ranAndFailed
        }
    }

    private mutating func verificationFinished(_ id: String, _ result: ReconcileTaskResult, taskID: String) {
        let now = nowMs
        if case .exited(0) = result {
            if let started = plan.states[id]?.driftStartedAtMs {
                plan.events.append(.reconciled(node: id, milliseconds: now - started))
            }
            plan.events.append(.remediation(node: id, outcome: "verified"))
            move(id, to: .inSync, .verified, taskID: taskID, exitCode: 0) { [policy] record in
                record.clearTask(exitCode: 0, checkedAt: now)
                record.failures = 0
                record.failedOnNode = false
                record.driftStartedAtMs = nil
                record.verifyDeadlineAtMs = nil
                record.nextCheckAtMs = now + policy.interval
            }
            return
        }
        if now >= plan.states[id]?.verifyDeadlineAtMs ?? now {
            plan.events.append(.remediation(node: id, outcome: "verify_deadline"))
            fail(id, reason: .verifyDeadline, taskID: taskID, exitCode: result.exitCode) { record in
                record.lastCheckAtMs = now
                record.failedOnNode = true
            }
            return
        }
        move(id, to: .verifying, .verifyPending, taskID: taskID, exitCode: result.exitCode) { [policy] record in
            record.clearTask(exitCode: result.exitCode, checkedAt: now)
            record.nextCheckAtMs = now + policy.verifyEvery
        }
    }

    /// FAILED with the next try after the item's backoff (deterministic per node and failure).
    private mutating func fail(
        _ id: String, reason: ReconcileReason, taskID: String, exitCode: Int?, _ change: (inout NodeReconciliation) -> Void
    ) {
        let now = nowMs
        let failures = (plan.states[id]?.failures ?? 0) + 1
        let delay = policy.retry.delayMilliseconds(retry: failures, seed: FNV1a.hash64(id))
        move(id, to: .failed, reason, taskID: taskID, exitCode: exitCode) { [policy] record in
            change(&record)
            record.taskID = nil
            record.lastExitCode = exitCode
            record.failures = failures
            record.verifyDeadlineAtMs = nil
            record.nextCheckAtMs = now + max(delay, 1)
        }
    }

    /// Sends the checks that are due on an available node, and ends verifications whose
    /// deadline passed without a check out.
    mutating func advanceInTime(_ id: String, available: Bool) {
        guard let record = plan.states[id], record.taskID == nil, record.generation == policy.generation else { return }
        let requested = policy.checkRequestedAtMs > 0 && policy.checkRequestedAtMs <= nowMs
            && policy.checkRequestedAtMs > (record.lastCheckAtMs ?? 0)
        let due = record.nextCheckAtMs <= nowMs
        switch record.state {
        case .verifying:
            if let deadline = record.verifyDeadlineAtMs, nowMs >= deadline {
                plan.events.append(.remediation(node: id, outcome: "verify_deadline"))
                fail(id, reason: .verifyDeadline, taskID: record.lastRemediationTaskID ?? "", exitCode: record.lastExitCode) {
                    $0.failedOnNode = true
                }
            } else if due, available {
                let taskID = submit(ReconcileWork(node: id, kind: .check, generation: record.generation, sequence: record.checkSeq + 1))
                update(id, with: { $0.taskID = taskID; $0.checkSeq += 1 })
            }
        case .unknown, .inSync, .failed, .haltedDomain:
            guard available, due || requested else { return }
            let reason: ReconcileReason = requested ? .checkRequested : record.state == .failed ? .retryDue : .checkDue
            let taskID = submit(ReconcileWork(node: id, kind: .check, generation: record.generation, sequence: record.checkSeq + 1))
            move(id, to: .checking, reason, taskID: taskID) { [policy] record in
                record.taskID = taskID
                record.checkSeq += 1
                if requested {
                    record.failures = 0
                    record.failedOnNode = false
                }
            }
        case .checking, .drifted, .remediating, .paused, .nodeGone:
            return
        }
    }

    mutating func update(_ id: String, with change: (inout NodeReconciliation) -> Void) {
        guard var record = plan.states[id] else { return }
        change(&record)
        update(id, record)
    }
}

extension NodeReconciliation {
    mutating func clearTask(exitCode: Int?, checkedAt nowMs: Int64) {
        taskID = nil
        lastExitCode = exitCode
        lastCheckAtMs = nowMs
    }
}

extension ReconcileTaskResult {
    var exitCode: Int? {
        if case .exited(let code) = self { return code }
        return nil
    }
}
