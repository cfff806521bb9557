import Testing

@testable import FluxShard

@Suite struct BackpressureTests {
    @Test func theBacklogIsWaitingOverTheRecentDrainRate() {
        var door = Backpressure(maxBacklogMs: 2_000)
        // 10 dispatches a second for five seconds: 10/s.
        for second in 0..<5 { door.dispatched(10, atMs: Int64(second) * 1_000 + 100) }
        #expect(abs(door.drainPerSecond(nowMs: 4_999) - 10) < 0.5)
        // 15 waiting drain in 1.5 s: under the bound, nobody refused.
        #expect(door.verdict(waiting: 15, overShare: ["flood"], nowMs: 4_999) == .init(backlogMs: 1_500, refusing: []))
        // 50 waiting take 5 s: the tenants over their share are refused, sorted.
        #expect(door.verdict(waiting: 50, overShare: ["zeta", "flood"], nowMs: 4_999).refusing == ["flood", "zeta"])
        #expect(door.verdict(waiting: 0, overShare: ["flood"], nowMs: 4_999) == .init(backlogMs: 0, refusing: []))
    }

    @Test func aShardThatDispatchesNothingRefusesNobody() {
        let door = Backpressure(maxBacklogMs: 2_000)
        // No dispatch in the window (no agent, none free): idle or blocked, not overloaded.
        #expect(door.verdict(waiting: 3_000, overShare: ["a"], nowMs: 60_000) == .init(backlogMs: 0, refusing: []))
        // Dispatches older than the window do not count.
        var old = Backpressure(maxBacklogMs: 2_000)
        old.dispatched(1_000, atMs: 1_000)
        #expect(old.drainPerSecond(nowMs: 10_000) == 0)
        // One that just started is measured over the time since its first dispatch.
        var fresh = Backpressure(maxBacklogMs: 2_000)
        fresh.dispatched(20, atMs: 30_000)
        #expect(fresh.drainPerSecond(nowMs: 30_500) == 20 && fresh.drainPerSecond(nowMs: 32_000) == 10)
        // The wait a refused tenant is told: the excess, within 1…5 s.
        var steady = Backpressure(maxBacklogMs: 2_000)
        for second in 0..<5 { steady.dispatched(10, atMs: Int64(second) * 1_000) }
        #expect(steady.verdict(waiting: 25, overShare: ["a"], nowMs: 5_000).retryAfterMs == 1_000)
        #expect(steady.verdict(waiting: 50, overShare: ["a"], nowMs: 5_000).retryAfterMs == 3_000)
        #expect(steady.verdict(waiting: 5_000, overShare: ["a"], nowMs: 5_000).retryAfterMs == 5_000)
        // A bound of 0 turns backpressure off.
        #expect(Backpressure(maxBacklogMs: 0).verdict(waiting: 1_000, overShare: ["a"], nowMs: 0).refusing.isEmpty)
    }
}
