import Testing
@testable import FluxCore

/// The reconciliation planner driven through whole scenarios with an injected clock: the same
/// events give the same plans, and every bound of docs/reconciliation.md holds.
@Suite struct ReconcilePlannerTests {
    /// A fleet, its records and the results of the tasks they wait for, stepped by hand.
    struct Fleet {
        var policy: ReconcilePolicy
        var nodes: [ReconcileNode]
        var states: [String: NodeReconciliation] = [:]
        var results: [String: ReconcileTaskResult] = [:]
        var nowMs: Int64 = 1_000
        var submitted: [ReconcileWork] = []

        init(policy: ReconcilePolicy = Fleet.defaultPolicy(), zones: [String: Int]) {
            self.policy = policy
            nodes = zones.sorted { $0.key < $1.key }.flatMap { zone, count in
                (1...count).map { ReconcileNode(id: "\(zone)-n\($0)", zone: zone, available: true) }
            }
        }

        static func defaultPolicy(maxParallel: Int = 10, perDomain: Int = 10, haltAfter: Int = 3) -> ReconcilePolicy {
            ReconcilePolicy(
                generation: 1, intervalMs: 60_000, verifyDeadlineMs: 30_000, verifyEveryMs: 5_000, maxParallel: maxParallel,
                maxParallelPerDomain: perDomain, haltDomainAfterFailures: haltAfter,
                retry: BackoffPolicy(kind: .linear, baseDelay: .seconds(10), maxDelay: .seconds(60), maxAttempts: 2))
        }

        @discardableResult
        mutating func step(advance seconds: Int64 = 0) -> ReconcilePlan {
            nowMs += seconds * 1_000
            let plan = ReconcilePlanner.plan(
                policy: policy, nodes: nodes, states: states, results: results, nowMs: nowMs,
                name: { "\($0.kind.rawValue)-\($0.node)-g\($0.generation)-\($0.sequence)" })
            states = plan.states
            submitted += plan.submissions.map(\.work)
            for submission in plan.submissions { results[submission.taskID] = .pending }
            return plan
        }

        /// Finishes every pending task of `kind` with `exit` (on the nodes `where` selects).
        mutating func finish(_ kind: ReconcileWork.Kind, exit: Int, where select: (String) -> Bool = { _ in true }) {
            for (node, record) in states {
                guard let id = record.taskID, id.hasPrefix(kind.rawValue), select(node), results[id] == .pending else { continue }
                results[id] = .exited(exit)
            }
        }

        func count(_ state: ReconcileState) -> Int { states.values.filter { $0.state == state }.count }
    }

    @Test func checksDiscoverDriftAndRemediationVerifiesIt() {
        var fleet = Fleet(zones: ["a": 3])
        fleet.step()
        #expect(fleet.count(.checking) == 3)
        fleet.finish(.check, exit: 0, where: { $0 != "a-n2" })
        fleet.finish(.check, exit: 1)
        let drift = fleet.step(advance: 1)
        #expect(fleet.count(.inSync) == 2)
        #expect(fleet.states["a-n2"]?.state == .remediating)
        #expect(drift.events.contains(.driftDetected(node: "a-n2")))
        #expect(drift.transitions.map(\.reason).contains(.driftDetected))
        fleet.finish(.apply, exit: 0)
        fleet.step(advance: 1)
        #expect(fleet.states["a-n2"]?.state == .verifying)
        fleet.step()  // the verification check goes out at once
        fleet.finish(.check, exit: 0)
        let verified = fleet.step(advance: 2)
        #expect(fleet.count(.inSync) == 3)
        #expect(verified.events.contains(.reconciled(node: "a-n2", milliseconds: 3_000)))
        #expect(fleet.states["a-n2"]?.lastRemediationTaskID == "apply-a-n2-g1-1")
    }

    @Test func inSyncNodesAreCheckedAgainEveryInterval() {
        var fleet = Fleet(zones: ["a": 2])
        fleet.step()
        fleet.finish(.check, exit: 0)
        fleet.step(advance: 1)
        #expect(fleet.step(advance: 58).submissions.isEmpty)
        let due = fleet.step(advance: 2)
        #expect(due.submissions.count == 2)
        #expect(due.submissions.allSatisfy { $0.work.kind == .check && $0.work.sequence == 2 })
    }

    @Test func applyThatDoesNotFixFailsAtTheVerifyDeadline() {
        var fleet = Fleet(zones: ["a": 1])
        fleet.step()
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        fleet.finish(.apply, exit: 0)
        fleet.step(advance: 1)
        for _ in 0..<10 where fleet.states["a-n1"]?.state == .verifying {
            fleet.step(advance: 5)
            fleet.finish(.check, exit: 1)
        }
        let record = fleet.states["a-n1"]
        #expect(record?.state == .failed)
        #expect(record?.reason == .verifyDeadline)
        #expect(record?.failures == 1)
        // Retried after the backoff: checked again, drift found again, a second remediation.
        fleet.step(advance: 11)
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        #expect(fleet.states["a-n1"]?.state == .remediating)
        #expect(fleet.submitted.filter { $0.kind == .apply }.map(\.sequence) == [1, 2])
    }

    @Test func remediationIsBoundedPerItemAndPerDomain() {
        var fleet = Fleet(policy: Fleet.defaultPolicy(maxParallel: 3, perDomain: 2), zones: ["a": 5, "b": 5])
        fleet.step()
        fleet.finish(.check, exit: 1)
        var peak = 0
        var peakPerZone = 0
        for _ in 0..<40 {
            fleet.step(advance: 1)
            let remediating = fleet.states.filter { $0.value.state.isRemediating }
            peak = max(peak, remediating.count)
            for zone in ["a", "b"] { peakPerZone = max(peakPerZone, remediating.filter { $0.value.zone == zone }.count) }
            fleet.finish(.apply, exit: 0)
            fleet.finish(.check, exit: 0)
        }
        #expect(peak == 3)
        #expect(peakPerZone == 2)
        #expect(fleet.count(.inSync) == 10)
    }

    @Test func aZoneWhoseRemediationsKeepFailingHaltsWhileTheOtherCompletes() {
        var fleet = Fleet(policy: Fleet.defaultPolicy(maxParallel: 4, perDomain: 2, haltAfter: 2), zones: ["a": 4, "b": 4])
        fleet.step()
        fleet.finish(.check, exit: 1)
        for _ in 0..<60 {
            fleet.step(advance: 1)
            fleet.finish(.apply, exit: 0, where: { $0.hasPrefix("b") })
            fleet.finish(.apply, exit: 3, where: { $0.hasPrefix("a") })
            fleet.finish(.check, exit: 0, where: { $0.hasPrefix("b") })
            fleet.finish(.check, exit: 1, where: { $0.hasPrefix("a") })
        }
        let zoneA = fleet.states.filter { $0.key.hasPrefix("a") }.values
        #expect(fleet.states.filter { $0.key.hasPrefix("b") }.values.allSatisfy { $0.state == .inSync })
        #expect(zoneA.contains { $0.state == .haltedDomain })
        // Only the two remediations that tripped the halt ran in zone a, then nothing more.
        #expect(Set(fleet.submitted.filter { $0.kind == .apply && $0.node.hasPrefix("a") }.map(\.node)).count == 2)
    }

    @Test func appliesThatNeverRanDoNotHaltTheirZone() {
        var fleet = Fleet(policy: Fleet.defaultPolicy(maxParallel: 4, perDomain: 4, haltAfter: 2), zones: ["a": 3])
        fleet.step()
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        // Refused at admission (no exit code): FAILED with backoff, but the zone is not to blame.
        for (node, record) in fleet.states where record.state == .remediating {
            fleet.results[record.taskID ?? ""] = .errored("cpu_budget")
            _ = node
        }
        fleet.step(advance: 1)
        #expect(fleet.count(.failed) == 3)
        #expect(fleet.states.values.allSatisfy { $0.reason == .applyNotRun && !$0.countsAgainstZone })
        // After the backoff they are checked, found drifted and remediated again: no halt.
        fleet.step(advance: 11)
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        #expect(fleet.count(.remediating) == 3)
        #expect(fleet.count(.haltedDomain) == 0)
    }

    @Test func aFailedNodeThatLeavesNoLongerHaltsItsZone() {
        var fleet = Fleet(policy: Fleet.defaultPolicy(maxParallel: 2, perDomain: 2, haltAfter: 2), zones: ["a": 3])
        fleet.step()
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        fleet.finish(.apply, exit: 5)
        fleet.step(advance: 1)
        #expect(fleet.count(.haltedDomain) == 1)
        let failed = fleet.states.filter { $0.value.state == .failed }.map(\.key)
        fleet.nodes.removeAll { $0.id == failed.first }
        fleet.step(advance: 200)
        #expect(fleet.states[failed[0]]?.state == .nodeGone)
        #expect(fleet.count(.haltedDomain) == 0, "one failure left in the zone, below the threshold of 2")
    }

    @Test func pausedItemRunsNothingAndResumesFromUnknown() {
        var fleet = Fleet(zones: ["a": 2])
        fleet.policy.paused = true
        let plan = fleet.step()
        #expect(plan.submissions.isEmpty)
        #expect(fleet.count(.paused) == 2)
        #expect(fleet.step(advance: 120).submissions.isEmpty)
        fleet.policy.paused = false
        #expect(fleet.step(advance: 1).submissions.count == 2)
    }

    @Test func nodesThatLeaveAreGoneAndNodesThatJoinAreBroughtIn() {
        var fleet = Fleet(zones: ["a": 2])
        fleet.step()
        fleet.finish(.check, exit: 0)
        fleet.step(advance: 1)
        let leaver = fleet.nodes.removeLast()
        fleet.nodes.append(ReconcileNode(id: "late", zone: "a", available: true))
        let joined = fleet.step(advance: 1)
        #expect(joined.submissions.map(\.work.node) == ["late"])
        fleet.step(advance: 200)
        #expect(fleet.states[leaver.id]?.state == .nodeGone)
        fleet.nodes.append(leaver)
        fleet.step(advance: 1)
        #expect(fleet.states[leaver.id]?.state == .checking)
    }

    @Test func aReplannedStepNamesTheSameWork() {
        // A crash after submitting but before writing the records: the next owner plans from
        // the old records and must ask for the very same task.
        var fleet = Fleet(zones: ["a": 1])
        fleet.step()
        fleet.finish(.check, exit: 1)
        let before = fleet.states
        let first = fleet.step(advance: 1)
        fleet.states = before
        let again = fleet.step()
        #expect(first.submissions.map(\.taskID) == again.submissions.map(\.taskID))
        #expect(first.submissions.first?.work == ReconcileWork(node: "a-n1", kind: .apply, generation: 1, sequence: 1))
    }

    @Test func aNewGenerationStartsOverOnceTheOldTaskEnds() {
        var fleet = Fleet(zones: ["a": 1])
        fleet.step()
        fleet.policy.generation = 2
        fleet.step(advance: 1)
        #expect(fleet.states["a-n1"]?.generation == 1)  // its check is still out
        fleet.finish(.check, exit: 1)
        fleet.step(advance: 1)
        let record = fleet.states["a-n1"]
        #expect(record?.generation == 2)
        #expect(record?.state == .checking)
        #expect(fleet.submitted.filter { $0.kind == .apply }.isEmpty)
    }

    @Test func sameEventsGiveTheSamePlans() {
        func run() -> [String] {
            var fleet = Fleet(policy: Fleet.defaultPolicy(maxParallel: 2, perDomain: 1), zones: ["a": 3, "b": 3])
            var log: [String] = []
            for round in 0..<30 {
                let plan = fleet.step(advance: 1)
                log += plan.transitions.map { "\(round):\($0.node):\($0.to.rawValue):\($0.reason.rawValue)" }
                fleet.finish(.check, exit: round % 3 == 0 ? 1 : 0)
                fleet.finish(.apply, exit: round % 4 == 0 ? 2 : 0)
            }
            return log
        }
        #expect(run() == run())
    }

    @Test func checkAnswersDoNotCountAgainstNodeHealth() {
        func failureRate(exitCodeIsAnswer: Bool) -> Double? {
            var scheduler = makeScheduler()
            var check = spec("c", retry: RetryPolicy(nonZeroExit: BackoffPolicy(kind: .none, maxAttempts: 1)))
            check.exitCodeIsAnswer = exitCodeIsAnswer
            _ = scheduler.handle(.taskSubmitted(check), now: at(0))
            _ = scheduler.handle(.tick, now: at(0))
            let done = scheduler.handle(.taskFinished(task("c"), attempt: 1, outcome: .exitCode(1)), now: at(1))
            #expect(done.moves == ["c:FAILED"])
            return scheduler.nodeSnapshot(tenant: tenant("acme"), node: node("n1"), now: at(1))?.health.failureRate
        }
        #expect(failureRate(exitCodeIsAnswer: true) == 0)
        #expect((failureRate(exitCodeIsAnswer: false) ?? 0) > 0)
    }
}
