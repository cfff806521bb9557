import Testing
@testable import FluxCore

@Suite struct FailureTests {
    /// Runs one tick and returns the dispatches.
    func dispatch(_ scheduler: inout Scheduler, at seconds: Double) -> [String] {
        scheduler.handle(.tick, now: at(seconds)).dispatches
    }

    @Test func nonZeroExitRetriesWithLinearBackoffThenFails() {
        var scheduler = makeScheduler()
        _ = scheduler.handle(.taskSubmitted(spec("t")), now: at(0))
        #expect(dispatch(&scheduler, at: 0) == ["t@n1#1"])
        let first = scheduler.handle(.taskFinished(task("t"), attempt: 1, outcome: .exitCode(2)), now: at(1))
        guard case .retryScheduled(let transition, let dueAt, let next) = first.last else {
            Issue.record("expected a retry, got \(first)")
            return
        }
        #expect(transition.reason == .nonZeroExit && next == 2)
        // linear 10 s with 10 % jitter: due in [10 s, 11 s] after the failure at 1 s
        #expect(dueAt >= at(10) && dueAt <= at(11))
        #expect(dispatch(&scheduler, at: 5).isEmpty)
        #expect(dispatch(&scheduler, at: 12) == ["t@n1#2"])
        _ = scheduler.handle(.taskFinished(task("t"), attempt: 2, outcome: .exitCode(2)), now: at(13))
        #expect(dispatch(&scheduler, at: 40) == ["t@n1#3"])
        let last = scheduler.handle(.taskFinished(task("t"), attempt: 3, outcome: .exitCode(2)), now: at(41))
        #expect(last.moves == ["t:FAILED"])
        #expect(scheduler.heldTasks == 0)
    }

    @Test func staleAndUnknownResultsAreIgnored() {
        var scheduler = makeScheduler()
        _ = scheduler.handle(.taskSubmitted(spec("t", timeout: .seconds(5))), now: at(0))
        _ = dispatch(&scheduler, at: 0)
        let timedOut = scheduler.handle(.tick, now: at(6))
        #expect(timedOut.first == .cancelDispatched(task: task("t"), tenant: tenant("acme"), node: node("n1"), attempt: 1))
        #expect(timedOut.transitions.first?.reason == .timeout)
        let late = scheduler.handle(.taskFinished(task("t"), attempt: 1, outcome: .succeeded), now: at(7))
        #expect(late == [.eventIgnored(IgnoredEvent(task: task("t"), tenant: tenant("acme"), node: nil, reason: .staleAttempt))])
        let unknown = scheduler.handle(.taskFinished(task("nope"), attempt: 1, outcome: .succeeded), now: at(7))
        #expect(unknown.first?.reason == .unknownTask)
        #expect(scheduler.handle(.taskStarted(task("nope"), attempt: 1), now: at(7)).first?.reason == .unknownTask)
    }

    @Test func poisonAfterThreeDistinctNodes() {
        var scheduler = makeScheduler(nodes: [descriptor("n1"), descriptor("n2"), descriptor("n3")])
        _ = scheduler.handle(.taskSubmitted(spec("p")), now: at(0))
        var nodes: [String] = []
        for attempt in 1...3 {
            let sent = dispatch(&scheduler, at: Double(attempt))
            nodes += sent
            let result = scheduler.handle(.taskFinished(task("p"), attempt: attempt, outcome: .crashed), now: at(Double(attempt)))
            #expect(result.moves == [attempt < 3 ? "p:RETRY_WAIT" : "p:SUSPENDED"], "attempt \(attempt)")
        }
        #expect(Set(nodes.map { $0.split(separator: "@")[1].prefix(2) }).count == 3)
        #expect(scheduler.explain(task: task("p"), now: at(4))?.lastReason == .poison)
    }

    @Test func threeCrashesOnOneNodeAreNotPoison() {
        var scheduler = makeScheduler()
        _ = scheduler.handle(.taskSubmitted(spec("p")), now: at(0))
        for attempt in 1...4 {
            #expect(dispatch(&scheduler, at: Double(attempt)) == ["p@n1#\(attempt)"])
            let result = scheduler.handle(.taskFinished(task("p"), attempt: attempt, outcome: .crashed), now: at(Double(attempt)))
            #expect(result.moves == ["p:RETRY_WAIT"], "attempt \(attempt)")
        }
        _ = dispatch(&scheduler, at: 5)
        // nodeLost policy: 5 attempts in all, so the fifth crash is final, still not poison.
        #expect(scheduler.handle(.taskFinished(task("p"), attempt: 5, outcome: .crashed), now: at(5)).moves == ["p:FAILED"])
    }

    @Test func resumeGivesAFreshAttemptBudget() {
        var scheduler = makeScheduler(nodes: [descriptor("n1"), descriptor("n2"), descriptor("n3")])
        _ = scheduler.handle(.taskSubmitted(spec("p")), now: at(0))
        for attempt in 1...3 {
            _ = dispatch(&scheduler, at: Double(attempt))
            _ = scheduler.handle(.taskFinished(task("p"), attempt: attempt, outcome: .nodeLost), now: at(Double(attempt)))
        }
        let resumed = scheduler.handle(.taskResumed(task("p")), now: at(10))
        #expect(resumed.moves == ["p:QUEUED", "p:ADMITTED"])
        #expect(dispatch(&scheduler, at: 10).first?.hasSuffix("#4") == true)
        #expect(scheduler.handle(.taskResumed(task("p")), now: at(10)).first?.reason == .notApplicable)
    }

    @Test func disconnectFailsInFlightAttemptsAsNodeLost() {
        var scheduler = makeScheduler(nodes: [descriptor("n1", capacity: 2), descriptor("n2", capacity: 2)])
        for id in ["a", "b"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        #expect(dispatch(&scheduler, at: 0) == ["a@n1#1", "b@n2#1"])
        let lost = scheduler.handle(.nodeDisconnected(tenant: tenant("acme"), node: node("n1")), now: at(1))
        #expect(lost.moves == ["a:RETRY_WAIT"])
        #expect(lost.transitions.first?.reason == .nodeLost)
        #expect(dispatch(&scheduler, at: 1) == ["a@n2#2"])
    }

    @Test func deadlinesEndWaitingAndInFlightTasks() {
        var scheduler = makeScheduler()
        _ = scheduler.handle(.taskSubmitted(spec("run", deadline: at(10))), now: at(0))
        _ = scheduler.handle(.taskSubmitted(spec("wait", deadline: at(20))), now: at(0))
        _ = dispatch(&scheduler, at: 0)
        let first = scheduler.handle(.tick, now: at(10))
        #expect(first.first == .cancelDispatched(task: task("run"), tenant: tenant("acme"), node: node("n1"), attempt: 1))
        #expect(first.moves.prefix(1) == ["run:DEADLINE_EXCEEDED"])
        // "wait" got n1 right after "run" left it; its deadline still ends it in flight.
        #expect(first.dispatches == ["wait@n1#1"])
        #expect(scheduler.handle(.tick, now: at(20)).moves == ["wait:DEADLINE_EXCEEDED"])
        var queued = makeScheduler(nodes: [])
        _ = queued.handle(.taskSubmitted(spec("w", deadline: at(5))), now: at(0))
        #expect(queued.handle(.tick, now: at(5)).moves == ["w:DEADLINE_EXCEEDED"])
        #expect(queued.waitingTasks == 0)
    }

    @Test func cancelWhereverTheTaskIs() {
        var scheduler = makeScheduler()
        for id in ["a", "b"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        _ = dispatch(&scheduler, at: 0)
        let running = scheduler.handle(.taskCancelled(task("a")), now: at(1))
        #expect(running.first == .cancelDispatched(task: task("a"), tenant: tenant("acme"), node: node("n1"), attempt: 1))
        #expect(running.moves == ["a:CANCELLED"])
        #expect(scheduler.handle(.taskCancelled(task("b")), now: at(1)).moves == ["b:CANCELLED"])
        #expect(scheduler.handle(.taskCancelled(task("b")), now: at(1)).first?.reason == .unknownTask)
        #expect(scheduler.heldTasks == 0 && scheduler.counters.inFlight == 0)
    }

    @Test func tenantRemovalForgetsEverythingSilently() {
        var scheduler = makeScheduler(nodes: [descriptor("n1", capacity: 1)])
        for id in ["a", "b"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        _ = dispatch(&scheduler, at: 0)
        #expect(scheduler.handle(.tenantRemoved(tenant("acme")), now: at(1)) == [.tenantRemoved(tenant("acme"), forgottenTasks: 2)])
        #expect(scheduler.heldTasks == 0 && scheduler.waitingTasks == 0 && scheduler.counters.inFlight == 0)
        #expect(scheduler.handle(.taskFinished(task("a"), attempt: 1, outcome: .succeeded), now: at(2)).first?.reason == .unknownTask)
        // The slot can come back: configure, reconnect, restore.
        _ = scheduler.handle(.tenantConfigured(tenant("acme"), TenantConfiguration()), now: at(3))
        _ = scheduler.handle(.nodeConnected(descriptor("n1", capacity: 1)), now: at(3))
        _ = scheduler.handle(.taskRestored(spec("a"), .inFlight(node: node("n1"), attempt: 1, timeoutAt: at(60), running: true)), now: at(3))
        #expect(scheduler.handle(.taskFinished(task("a"), attempt: 1, outcome: .succeeded), now: at(4)).moves == ["a:SUCCEEDED"])
    }

    @Test func restoreKeepsOriginalOrderTimesAndAttempts() {
        var scheduler = makeScheduler(nodes: [])
        let none: [SchedulerDecision] = []
        #expect(scheduler.handle(.taskRestored(spec("young"), .waiting(enqueuedAt: at(50), attempts: 0)), now: at(100)) == none)
        #expect(scheduler.handle(.taskRestored(spec("old"), .waiting(enqueuedAt: at(10), attempts: 2)), now: at(100)) == none)
        _ = scheduler.handle(.taskRestored(spec("later"), .retryWaiting(dueAt: at(200), attempts: 1)), now: at(100))
        _ = scheduler.handle(.taskRestored(spec("sus"), .suspended(attempts: 3)), now: at(100))
        _ = scheduler.handle(.nodeConnected(descriptor("n1", capacity: 1)), now: at(100))
        #expect(scheduler.handle(.tick, now: at(100)).dispatches == ["old@n1#3"])
        _ = scheduler.handle(.taskFinished(task("old"), attempt: 3, outcome: .succeeded), now: at(101))
        #expect(scheduler.handle(.tick, now: at(101)).dispatches == ["young@n1#1"])
        _ = scheduler.handle(.taskFinished(task("young"), attempt: 1, outcome: .succeeded), now: at(102))
        let due = scheduler.handle(.tick, now: at(200))
        #expect(due.moves == ["later:ADMITTED", "later:DISPATCHED"])
        #expect(due.dispatches == ["later@n1#2"])
        #expect(scheduler.explain(task: task("sus"), now: at(200))?.state == .suspended)
        #expect(scheduler.queueSnapshot(tenant: tenant("acme"), now: at(200))?.queued == 0)
    }
}
