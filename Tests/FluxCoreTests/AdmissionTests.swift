import Testing
@testable import FluxCore

@Suite struct AdmissionTests {
    @Test func unknownTenantIsRejectedAndDuplicateIgnored() {
        var scheduler = makeScheduler()
        let unknown = scheduler.handle(.taskSubmitted(spec("t1", tenant: "nobody")), now: at(0))
        #expect(unknown.transitions.map(\.reason) == [.unknownTenant])
        #expect(unknown.moves == ["t1:REJECTED"])
        _ = scheduler.handle(.taskSubmitted(spec("t2")), now: at(0))
        let duplicate = scheduler.handle(.taskSubmitted(spec("t2")), now: at(0))
        #expect(duplicate == [.eventIgnored(IgnoredEvent(task: task("t2"), tenant: tenant("acme"), node: nil, reason: .duplicateTask))])
    }

    @Test func hardQuotaRejectsWithReason() {
        var scheduler = makeScheduler(tenants: ["acme": TenantConfiguration(maxQueued: 2)], nodes: [])
        for id in ["a", "b"] { _ = scheduler.handle(.taskSubmitted(spec(id)), now: at(0)) }
        let third = scheduler.handle(.taskSubmitted(spec("c")), now: at(0))
        #expect(third.transitions.map(\.reason.code) == ["tenant_quota_queued"])
        var paused = makeScheduler(tenants: ["acme": TenantConfiguration(maxInFlight: 0)])
        let refused = paused.handle(.taskSubmitted(spec("x")), now: at(0))
        #expect(refused.transitions.map(\.reason.code) == ["tenant_quota_in_flight"])
    }

    @Test func cpuBudgetCountsQueuedAndInFlightCost() {
        var scheduler = makeScheduler(tenants: ["acme": TenantConfiguration(cpuBudget: 5)])
        #expect(scheduler.handle(.taskSubmitted(spec("a", cpu: 2)), now: at(0)).moves == ["a:ADMITTED"])
        _ = scheduler.handle(.tick, now: at(0))  // a is now in flight, still counted
        #expect(scheduler.handle(.taskSubmitted(spec("b", cpu: 2)), now: at(0)).moves == ["b:ADMITTED"])
        let over = scheduler.handle(.taskSubmitted(spec("c", cpu: 2)), now: at(0))
        #expect(over.transitions.map(\.reason) == [.cpuBudget])
        #expect(scheduler.queueSnapshot(tenant: tenant("acme"), now: at(0))?.cpuCommitted == 4)
        _ = scheduler.handle(.taskFinished(task("a"), attempt: 1, outcome: .succeeded), now: at(1))
        #expect(scheduler.handle(.taskSubmitted(spec("c", cpu: 2)), now: at(1)).moves == ["c:ADMITTED"])
    }

    @Test func deadlineAlreadyPassedEndsTheTask() {
        var scheduler = makeScheduler()
        let late = scheduler.handle(.taskSubmitted(spec("t", deadline: at(5))), now: at(6))
        #expect(late.moves == ["t:DEADLINE_EXCEEDED"])
        #expect(late.transitions.first?.reason == .deadlinePassed)
    }

    /// Queue full: the lowest class goes first, newest first, and a newcomer that is itself the
    /// lowest is shed instead of a waiting task.
    @Test func sheddingOrder() {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = 3
        var scheduler = makeScheduler(configuration: configuration, nodes: [])
        for (id, priority) in [("a", 5), ("b", 10), ("c", 10)] {
            _ = scheduler.handle(.taskSubmitted(spec(id, priority: priority)), now: at(0))
        }
        #expect(scheduler.handle(.taskSubmitted(spec("d", priority: 7)), now: at(1)).moves == ["c:SHED", "d:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("e", priority: 5)), now: at(1)).moves == ["b:SHED", "e:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("f", priority: 10)), now: at(1)).moves == ["f:SHED"])
        #expect(scheduler.handle(.taskSubmitted(spec("g", priority: 5)), now: at(1)).moves == ["d:SHED", "g:ADMITTED"])
        let tie = scheduler.handle(.taskSubmitted(spec("h", priority: 5)), now: at(1))
        #expect(tie.moves == ["h:SHED"])
        #expect(tie.transitions.first?.reason.code == "queue_full")
    }

    /// A full queue sheds the tenant over its fair share, never one within it: the flooder's
    /// newest task makes room for the quiet tenant's, whatever their classes; a tenant at its
    /// share can only displace its own less urgent work; weights set the shares.
    @Test func aFullQueueShedsTheTenantOverItsShare() {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = 6
        var scheduler = makeScheduler(
            configuration: configuration,
            tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration(), "heavy": TenantConfiguration(weight: 2)], nodes: [])
        for index in 0..<6 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood", priority: 1)), now: at(0)) }
        // The quiet tenant's P9 takes the place of the flood's newest P1.
        let quiet = scheduler.handle(.taskSubmitted(spec("q0", tenant: "quiet", priority: 9)), now: at(1))
        #expect(quiet.moves == ["f5:SHED", "q0:ADMITTED"])
        #expect(quiet.transitions.first?.reason == .queueFullOverShare)
        #expect(scheduler.handle(.taskSubmitted(spec("q1", tenant: "quiet", priority: 9)), now: at(1)).moves == ["f4:SHED", "q1:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("q2", tenant: "quiet", priority: 9)), now: at(1)).moves == ["f3:SHED", "q2:ADMITTED"])
        // 3 and 3 of 6: the quiet tenant is at its share now; its P9 cannot displace the flood's P1
        // and its own tasks are not less urgent: the newcomer is shed.
        #expect(scheduler.handle(.taskSubmitted(spec("q3", tenant: "quiet", priority: 9)), now: at(1)).moves == ["q3:SHED"])
        // At its share, a tenant displaces only its own less urgent work: the quiet tenant's P2
        // its own newest P9, the flood's P0 its own newest P1.
        #expect(scheduler.handle(.taskSubmitted(spec("q4", tenant: "quiet", priority: 2)), now: at(1)).moves == ["q2:SHED", "q4:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("f6", tenant: "flood", priority: 0)), now: at(1)).moves == ["f2:SHED", "f6:ADMITTED"])
        // A third tenant of weight 2 is owed half of six among three: within its share, it
        // displaces from the tenant furthest over it. First a tie (3 and 3 against shares of
        // 1.5): the tenant known first, flood, loses its least urgent task (P1 f1, not P0 f6).
        #expect(scheduler.handle(.taskSubmitted(spec("h0", tenant: "heavy", priority: 10)), now: at(1)).moves == ["f1:SHED", "h0:ADMITTED"])
        // Then quiet (3 against 1.5) is furthest over: its newest P9 goes, not its P2.
        #expect(scheduler.handle(.taskSubmitted(spec("h1", tenant: "heavy", priority: 10)), now: at(1)).moves == ["q1:SHED", "h1:ADMITTED"])
    }

    /// Backpressure at the door refuses whom the backlog is made of: tenants at or over their
    /// weighted share of the waiting tasks, never one within it.
    @Test func theBacklogBelongsToTheTenantsAtOrOverTheirShare() {
        var scheduler = makeScheduler(
            tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration(), "heavy": TenantConfiguration(weight: 3)], nodes: [])
        #expect(scheduler.tenantsAtOrOverWaitingShare.isEmpty)
        for index in 0..<8 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood", priority: 5)), now: at(0)) }
        #expect(scheduler.tenantsAtOrOverWaitingShare.map(\.rawValue) == ["flood"], "alone in the queue, it holds all of it")
        _ = scheduler.handle(.taskSubmitted(spec("q0", tenant: "quiet", priority: 5)), now: at(1))
        #expect(scheduler.tenantsAtOrOverWaitingShare.map(\.rawValue) == ["flood"], "1 of 9 is under half")
        // Weight 3 of 5: a share of 0.6 × 14 = 8.4; five tasks are within it, flood's 8 of a
        // 0.2 share are not, quiet's 1 is not at 2.8 either.
        for index in 0..<5 { _ = scheduler.handle(.taskSubmitted(spec("h\(index)", tenant: "heavy", priority: 5)), now: at(2)) }
        #expect(scheduler.tenantsAtOrOverWaitingShare.map(\.rawValue) == ["flood"])
    }

    /// Shedding compares effective classes: an aged P10 (now P8) outranks a fresh P9.
    @Test func sheddingUsesEffectiveClassAfterAging() {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = 2
        var scheduler = makeScheduler(configuration: configuration, nodes: [])
        _ = scheduler.handle(.taskSubmitted(spec("old", priority: 10)), now: at(0))
        _ = scheduler.handle(.taskSubmitted(spec("fresh", priority: 9)), now: at(60))
        let decisions = scheduler.handle(.taskSubmitted(spec("new", priority: 1)), now: at(60))
        #expect(decisions.moves == ["fresh:SHED", "new:ADMITTED"])
        #expect(decisions.transitions.first?.reason == .queueFullDisplaced)
    }

    @Test func readOnlyAndDegradedModesGateAdmission() {
        var scheduler = makeScheduler()
        let changed = scheduler.handle(.modeOverride(.readOnly), now: at(0))
        #expect(changed == [.modeChanged(from: .normal, to: .readOnly, reason: .manualOverride)])
        #expect(scheduler.handle(.taskSubmitted(spec("a", priority: 0)), now: at(0)).transitions.map(\.reason) == [.readOnly])
        _ = scheduler.handle(.modeOverride(.degraded), now: at(0))
        #expect(scheduler.handle(.taskSubmitted(spec("b", priority: 4)), now: at(0)).transitions.map(\.reason) == [.modeDegraded])
        #expect(scheduler.handle(.taskSubmitted(spec("c", priority: 3)), now: at(0)).moves == ["c:ADMITTED"])
        _ = scheduler.handle(.modeOverride(nil), now: at(0))
        #expect(scheduler.mode == .normal)
        #expect(scheduler.handle(.taskSubmitted(spec("d", priority: 9)), now: at(0)).moves == ["d:ADMITTED"])
    }

    /// DEGRADED sheds the tenant that floods, not the one within its share of the waiting tasks.
    @Test func degradedRejectsOnlyTenantsAtOrOverTheirFairShare() {
        var scheduler = makeScheduler(
            tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration(), "heavy": TenantConfiguration(weight: 9)],
            nodes: [])
        for index in 0..<20 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood")), now: at(0)) }
        _ = scheduler.handle(.modeOverride(.degraded), now: at(1))
        #expect(scheduler.handle(.taskSubmitted(spec("f-more", tenant: "flood")), now: at(1)).transitions.map(\.reason) == [.modeDegraded])
        #expect(scheduler.handle(.taskSubmitted(spec("q1", tenant: "quiet")), now: at(1)).moves == ["q1:ADMITTED"])
        // Weight counts: a tenant of weight 9 may hold 9 of every 11 waiting tasks here (with
        // weight 1 it would be refused from its 11th).
        for index in 0..<15 {
            #expect(scheduler.handle(.taskSubmitted(spec("h\(index)", tenant: "heavy")), now: at(1)).moves == ["h\(index):ADMITTED"])
        }
        // P0–P3 are admitted in DEGRADED whoever sends them.
        #expect(scheduler.handle(.taskSubmitted(spec("f-urgent", tenant: "flood", priority: 1)), now: at(1)).moves == ["f-urgent:ADMITTED"])
    }

    /// The share that counts under DEGRADED is of the outstanding work, in flight included: a
    /// flood whose tasks are dispatched as fast as they come waits for nothing, yet it is what
    /// fills the machine (the noisy-neighbour benchmark caught the quiet tenant being rejected).
    @Test func degradedCountsWorkInFlightNotOnlyWaiting() {
        var scheduler = makeScheduler(
            tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration()],
            nodes: [descriptor("n1", tenant: "flood", capacity: 20)])
        for index in 0..<10 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood")), now: at(0)) }
        _ = scheduler.handle(.tick, now: at(0))
        #expect(scheduler.waitingTasks == 0, "the flood's tasks are all in flight")
        _ = scheduler.handle(.modeOverride(.degraded), now: at(1))
        #expect(scheduler.handle(.taskSubmitted(spec("q1", tenant: "quiet")), now: at(1)).moves == ["q1:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("f-more", tenant: "flood")), now: at(1)).transitions.map(\.reason) == [.modeDegraded])
    }

    /// A flood whose tasks finish as fast as they come has nothing outstanding between two
    /// batches; the quiet tenant beside it, one task running, then held "the whole share" of
    /// the outstanding work and DEGRADED refused it (`cluster/bench --noisy`, 2026-12-02: 107 of
    /// its submissions answered `429 degraded`). Recent arrivals count too; they fade.
    @Test func degradedJudgesAFloodByItsArrivalsWhenNothingOfItIsOutstanding() {
        var scheduler = makeScheduler(
            tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration()],
            nodes: [descriptor("n1", tenant: "flood", capacity: 100), descriptor("q1", tenant: "quiet", capacity: 4)])
        _ = scheduler.handle(.taskSubmitted(spec("q0", tenant: "quiet")), now: at(0))
        for index in 0..<50 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood")), now: at(0)) }
        _ = scheduler.handle(.tick, now: at(0))
        for index in 0..<50 { _ = scheduler.handle(.taskFinished(task("f\(index)"), attempt: 1, outcome: .succeeded), now: at(0.5)) }
        _ = scheduler.handle(.modeOverride(.degraded), now: at(1))
        #expect(scheduler.tenantsAtOrOverShareOfLoad(now: at(1)).map(\.rawValue) == ["flood"], "50 arrivals a second ago, against 1")
        #expect(scheduler.handle(.taskSubmitted(spec("q-low", tenant: "quiet", priority: 7)), now: at(1)).moves == ["q-low:ADMITTED"])
        #expect(scheduler.handle(.taskSubmitted(spec("f-low", tenant: "flood", priority: 7)), now: at(1)).transitions.map(\.reason) == [.modeDegraded])
        // A minute on, the flood's burst has faded (0.5^12 of 51) below the quiet tenant's
        // running work: the quiet tenant is the load now.
        #expect(scheduler.tenantsAtOrOverShareOfLoad(now: at(61)).map(\.rawValue) == ["quiet"])
    }

    /// When every eligible node sits in a throttled domain, admission defers and retries later.
    @Test func throttledDomainsDeferAdmission() {
        var configuration = SchedulerConfiguration()
        configuration.domains.failureRateAlpha = 0.5
        var scheduler = makeScheduler(configuration: configuration, nodes: [descriptor("n1", zone: "z1", capacity: 4)])
        _ = scheduler.handle(.taskSubmitted(spec("a", retry: .noRetries)), now: at(0))
        _ = scheduler.handle(.tick, now: at(0))
        let failed = scheduler.handle(.taskFinished(task("a"), attempt: 1, outcome: .exitCode(3)), now: at(1))
        #expect(failed.contains(.domainThrottled(.zone("z1"), failureRate: 0.5)))
        let deferred = scheduler.handle(.taskSubmitted(spec("b")), now: at(1))
        #expect(deferred == [.deferred(
            TaskTransition(task: task("b"), tenant: tenant("acme"), from: .queued, to: .deferred, reason: .domainThrottled),
            retryAt: at(6))])
        #expect(scheduler.explain(task: task("b"), now: at(2))?.state == .deferred)
        // The rate fades by 0.8 per 10 s: 0.5·0.8⁴ = 0.205 at 40 s, 0.164 < 0.2 at 50 s.
        let retried = scheduler.handle(.tick, now: at(50))
        let recovered = retried.compactMap { decision -> Double? in
            if case .domainRecovered(.zone("z1"), let rate) = decision { return rate }
            return nil
        }
        #expect(recovered.count == 1 && abs(recovered[0] - 0.16384) < 1e-9)
        #expect(retried.moves.prefix(3) == ["b:QUEUED", "b:ADMITTED", "b:DISPATCHED"])
    }
}
