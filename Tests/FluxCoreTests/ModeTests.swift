import Testing
@testable import FluxCore

@Suite struct ModeTests {
    @Test func queueDepthDegradesWithHysteresis() {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = 10
        var scheduler = makeScheduler(configuration: configuration, nodes: [])
        for index in 0..<10 { _ = scheduler.handle(.taskSubmitted(spec("t\(index)", priority: 2)), now: at(0)) }
        #expect(scheduler.handle(.tick, now: at(1)) == [.modeChanged(from: .normal, to: .degraded, reason: .overloadQueueDepth)])
        #expect(scheduler.handle(.taskSubmitted(spec("p5", priority: 5)), now: at(1)).transitions.map(\.reason) == [.modeDegraded])
        for index in 0..<2 { _ = scheduler.handle(.taskCancelled(task("t\(index)")), now: at(2)) }
        #expect(scheduler.handle(.tick, now: at(2)).isEmpty, "8 waiting is between the marks: stays DEGRADED")
        _ = scheduler.handle(.taskCancelled(task("t2")), now: at(3))
        _ = scheduler.handle(.taskCancelled(task("t3")), now: at(3))
        #expect(scheduler.handle(.tick, now: at(3)) == [.modeChanged(from: .degraded, to: .normal, reason: .overloadCleared)])
    }

    @Test func redisLatencyDegradesWithHysteresis() {
        var scheduler = makeScheduler()
        let slow = OverloadSignal(redisLatencyP99: .milliseconds(150))
        #expect(scheduler.handle(.overloadSignalled(slow), now: at(0)) == [
            .modeChanged(from: .normal, to: .degraded, reason: .overloadRedisLatency)])
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(70))), now: at(1)).isEmpty)
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(40))), now: at(2)) == [
            .modeChanged(from: .degraded, to: .normal, reason: .overloadCleared)])
    }

    /// DEGRADED for a slow Redis (or a busy shard) closes the door but keeps its word on work
    /// already accepted: the flood's P5 is admitted, not rejected, while the flood is the tenant
    /// the door refuses; DEGRADED for a queue near its bound still sheds at admission (above).
    /// Issue 16's batch flood rejected its accepted tasks `mode_degraded` while still accepting
    /// thousands a second.
    @Test func aSlowRedisClosesTheDoorToTheFloodButAdmitsWhatWasAccepted() {
        var scheduler = makeScheduler(tenants: ["flood": TenantConfiguration(), "quiet": TenantConfiguration()], nodes: [])
        for index in 0..<20 { _ = scheduler.handle(.taskSubmitted(spec("f\(index)", tenant: "flood")), now: at(0)) }
        _ = scheduler.handle(.taskSubmitted(spec("q0", tenant: "quiet")), now: at(0))
        _ = scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(150))), now: at(1))
        #expect(scheduler.mode == .degraded)
        #expect(scheduler.tenantsAtOrOverShareOfLoad(now: at(1)).map(\.rawValue) == ["flood"], "the door refuses whom the work is of")
        #expect(scheduler.handle(.taskSubmitted(spec("f-late", tenant: "flood", priority: 7)), now: at(1)).moves == ["f-late:ADMITTED"])
        // Shard lag alike; an operator's DEGRADED still sheds at admission.
        _ = scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(1), shardLagP99: .milliseconds(900))), now: at(2))
        #expect(scheduler.modeSnapshot.shardOverloaded && scheduler.mode == .degraded)
        #expect(scheduler.handle(.taskSubmitted(spec("f-later", tenant: "flood", priority: 7)), now: at(2)).moves == ["f-later:ADMITTED"])
        _ = scheduler.handle(.modeOverride(.degraded), now: at(3))
        #expect(scheduler.handle(.taskSubmitted(spec("f-override", tenant: "flood", priority: 7)), now: at(3)).transitions.map(\.reason) == [.modeDegraded])
    }

    /// A busy shard is not a slow Redis (issue 16): its own lag degrades it with its own reason,
    /// with hysteresis at half the threshold, whatever Redis's latency.
    @Test func theShardsOwnLagDegradesForItsOwnReason() {
        var scheduler = makeScheduler()
        let busy = OverloadSignal(redisLatencyP99: .milliseconds(2), shardLagP99: .milliseconds(600))
        #expect(scheduler.handle(.overloadSignalled(busy), now: at(0)) == [
            .modeChanged(from: .normal, to: .degraded, reason: .overloadShard)])
        #expect(scheduler.modeSnapshot.shardOverloaded && !scheduler.modeSnapshot.redisLatencyHigh)
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(2), shardLagP99: .milliseconds(300))), now: at(1)).isEmpty,
                "between half the threshold and the threshold: stays DEGRADED")
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(2), shardLagP99: .milliseconds(200))), now: at(2)) == [
            .modeChanged(from: .degraded, to: .normal, reason: .overloadCleared)])
        // A slow Redis with an idle shard is Redis's reason, as before.
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(150), shardLagP99: .milliseconds(1))), now: at(3)) == [
            .modeChanged(from: .normal, to: .degraded, reason: .overloadRedisLatency)])
    }

    @Test func unreachableRedisMeansReadOnly() {
        var scheduler = makeScheduler()
        let down = scheduler.handle(.overloadSignalled(OverloadSignal(redisReachable: false)), now: at(0))
        #expect(down == [.modeChanged(from: .normal, to: .readOnly, reason: .redisUnreachable)])
        let refused = scheduler.handle(.taskSubmitted(spec("t", priority: 0)), now: at(0))
        #expect(refused.transitions.map(\.reason.code) == ["read_only"])
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisReachable: true)), now: at(1)) == [
            .modeChanged(from: .readOnly, to: .normal, reason: .overloadCleared)])
    }

    @Test func manualOverrideWinsUntilCleared() {
        var scheduler = makeScheduler()
        _ = scheduler.handle(.overloadSignalled(OverloadSignal(redisReachable: false)), now: at(0))
        #expect(scheduler.handle(.modeOverride(.normal), now: at(1)) == [
            .modeChanged(from: .readOnly, to: .normal, reason: .manualOverride)])
        #expect(scheduler.handle(.overloadSignalled(OverloadSignal(redisReachable: false)), now: at(2)).isEmpty)
        #expect(scheduler.modeSnapshot.override == .normal && scheduler.modeSnapshot.redisUnreachable)
        #expect(scheduler.handle(.modeOverride(nil), now: at(3)) == [
            .modeChanged(from: .normal, to: .readOnly, reason: .overrideCleared)])
    }
}
