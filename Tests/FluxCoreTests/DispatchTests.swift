import Testing
@testable import FluxCore

@Suite struct DispatchTests {
    @Test func ranksByHealthThenLoad() {
        var scheduler = makeScheduler(nodes: [descriptor("n1", capacity: 2), descriptor("n2", capacity: 2)])
        for id in ["a", "b", "c", "d"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        // Equal health: lower load first, then lower handle.
        #expect(scheduler.handle(.tick, now: at(0)).dispatches == ["a@n1#1", "b@n2#1", "c@n1#1", "d@n2#1"])
        var degraded = makeScheduler(nodes: [descriptor("n1", capacity: 2), descriptor("n2", capacity: 2)])
        _ = degraded.handle(.agentHealthReported(tenant: tenant("acme"), node: node("n1"), report: 0.5), now: at(0))
        for id in ["a", "b", "c"] { _ = degraded.handle(.taskSubmitted(spec(id)), now: at(0)) }
        // n1 scores 0.9, n2 1.0: health beats load until n2 is full.
        #expect(degraded.handle(.tick, now: at(0)).dispatches == ["a@n2#1", "b@n2#1", "c@n1#1"])
    }

    @Test func quarantinedNodesGetNothing() {
        var scheduler = makeScheduler(nodes: [descriptor("n1", capacity: 4), descriptor("n2", capacity: 4)])
        _ = scheduler.handle(.taskSubmitted(spec("z", retry: .noRetries)), now: at(0))
        #expect(scheduler.handle(.tick, now: at(0)).dispatches == ["z@n1#1"])
        _ = scheduler.handle(.taskFinished(task("z"), attempt: 1, outcome: .exitCode(1)), now: at(0))
        _ = scheduler.handle(.probeCompleted(tenant: tenant("acme"), node: node("n1"), result: .failed), now: at(0))
        let report = scheduler.handle(.agentHealthReported(tenant: tenant("acme"), node: node("n1"), report: 0), now: at(0))
        #expect(report.count == 1)
        guard case .nodeQuarantined(_, let quarantined, let health) = report.first else {
            Issue.record("expected a quarantine, got \(report)")
            return
        }
        // 0.2·0 + 0.5·(1 − 0.2) + 0.3·0 = 0.4
        #expect(quarantined == node("n1") && abs(health.value - 0.4) < 1e-9)
        for id in ["a", "b", "c"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        #expect(scheduler.handle(.tick, now: at(0)).dispatches == ["a@n2#1", "b@n2#1", "c@n2#1"])
        #expect(scheduler.nodeSnapshot(tenant: tenant("acme"), node: node("n1"), now: at(0))?.isQuarantined == true)
    }

    @Test func constrainedTasksOfATenantWithoutNodesWaitAndMeetTheirDeadline() {
        var scheduler = makeScheduler(nodes: [])
        let selector = PlacementTarget.selector(LabelSelector(["zone": "nowhere"]))
        let admitted = scheduler.handle(.taskSubmitted(spec("s", target: selector, deadline: at(1))), now: at(0))
        #expect(admitted.moves == ["s:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("t", target: .node(node("ghost")))), now: at(0)).moves == ["t:ADMITTED"])
        #expect(scheduler.handle(.tick, now: at(0.5)).dispatches.isEmpty)
        #expect(scheduler.handle(.tick, now: at(1.5)).moves == ["s:DEADLINE_EXCEEDED"])
    }

    @Test func selectorsAndTargetsRestrictPlacement() {
        var scheduler = makeScheduler(nodes: [
            descriptor("cpu1", labels: ["class": "cpu"], capacity: 2), descriptor("gpu1", labels: ["class": "gpu"], capacity: 2),
        ])
        _ = scheduler.handle(.taskSubmitted(spec("g", target: .selector(LabelSelector(["class": "gpu"])))), now: at(0))
        _ = scheduler.handle(.taskSubmitted(spec("p", target: .node(node("cpu1")))), now: at(0))
        _ = scheduler.handle(.taskSubmitted(spec("x", target: .selector(LabelSelector(["class": "tpu"])))), now: at(0))
        // Same tenant, same class: FIFO. The selector task came first.
        #expect(scheduler.handle(.tick, now: at(0)).dispatches == ["g@gpu1#1", "p@cpu1#1"])
        #expect(scheduler.explain(task: task("x"), now: at(0))?.state == .admitted)
        // A node that appears later with the label picks the waiting task up.
        _ = scheduler.handle(.nodeConnected(descriptor("tpu1", labels: ["class": "tpu"])), now: at(1))
        #expect(scheduler.handle(.tick, now: at(1)).dispatches == ["x@tpu1#1"])
    }

    @Test func maxInFlightIsNeverExceeded() {
        var scheduler = makeScheduler(tenants: ["acme": TenantConfiguration(maxInFlight: 2)], nodes: [descriptor("n1", capacity: 10)])
        for id in ["a", "b", "c"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        #expect(scheduler.handle(.tick, now: at(0)).dispatches.count == 2)
        _ = scheduler.handle(.taskFinished(task("a"), attempt: 1, outcome: .succeeded), now: at(1))
        #expect(scheduler.handle(.tick, now: at(1)).dispatches == ["c@n1#1"])
    }

    /// Within a tenant the most urgent effective class goes first; ties go to the older task.
    @Test func priorityThenAgeWithinATenant() {
        var scheduler = makeScheduler(nodes: [])
        _ = scheduler.handle(.taskSubmitted(spec("p9", priority: 9)), now: at(0))
        _ = scheduler.handle(.taskSubmitted(spec("p3", priority: 3)), now: at(100))
        _ = scheduler.handle(.taskSubmitted(spec("p2", priority: 2)), now: at(101))
        _ = scheduler.handle(.nodeConnected(descriptor("n1", capacity: 1)), now: at(200))
        // At 200 s p9 has aged 6 classes (P3), p3 is P0 after 100 s (3 intervals), p2 is P0 too.
        #expect(scheduler.explain(task: task("p9"), now: at(200))?.effectivePriority == .p3)
        #expect(scheduler.handle(.tick, now: at(200)).dispatches == ["p3@n1#1"])
    }

    /// The per-tick dispatch budget is shared by deficit round robin: a flooding tenant cannot
    /// crowd out another tenant's P5 tasks.
    @Test func floodingTenantDoesNotStarveAnother() {
        var configuration = SchedulerConfiguration()
        configuration.maxDispatchesPerTick = 10
        var scheduler = makeScheduler(
            configuration: configuration,
            tenants: ["flood": TenantConfiguration(maxQueued: 10_000), "quiet": TenantConfiguration()],
            nodes: [descriptor("f1", tenant: "flood", capacity: 1_000), descriptor("q1", tenant: "quiet", capacity: 10)])
        for index in 0..<1_000 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood", priority: 0)), now: at(0)) }
        for index in 0..<4 { _ = scheduler.handle(.taskSubmitted(spec("q\(index)", tenant: "quiet", priority: 5)), now: at(0)) }
        let first = scheduler.handle(.tick, now: at(0)).dispatches
        #expect(first.count == 10)
        #expect(first.filter { $0.hasPrefix("q") }.count == 4)
    }

    /// Under continuous P0 load a P10 task is dispatched once aging lifts it to P0, no later than
    /// 10 aging intervals plus the P0 backlog older than it plus one tick.
    @Test func noStarvationUnderContinuousP0Load() {
        var scheduler = makeScheduler(nodes: [descriptor("n1", capacity: 1)])
        var running: (String, Int)?
        var counter = 0
        var dispatchedAt: Double?
        for second in 0..<400 {
            let now = at(Double(second))
            if let (id, attempt) = running {
                _ = scheduler.handle(.taskFinished(task(id), attempt: attempt, outcome: .succeeded), now: now)
            }
            let arrivals = second == 0 ? 5 : 1
            for _ in 0..<arrivals {
                _ = scheduler.handle(.taskSubmitted(spec("p0-\(counter)", priority: 0)), now: now)
                counter += 1
            }
            if second == 0 { _ = scheduler.handle(.taskSubmitted(spec("p10", priority: 10)), now: at(0.5)) }
            let decisions = scheduler.handle(.tick, now: now)
            running = decisions.compactMap { decision -> (String, Int)? in
                guard case .dispatched(let transition, _, let attempt, _) = decision else { return nil }
                return (transition.task.rawValue, attempt)
            }.first
            if running?.0 == "p10" && dispatchedAt == nil { dispatchedAt = Double(second) }
        }
        let bound = 0.5 + 10 * 30 + 1
        #expect(dispatchedAt != nil && dispatchedAt! <= bound)
        // Without aging it would never run: it waited for aging, not for luck.
        #expect(dispatchedAt != nil && dispatchedAt! >= 300)
    }
}
