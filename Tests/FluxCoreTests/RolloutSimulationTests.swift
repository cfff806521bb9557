import FluxCore
import FluxSim
import FluxTesting
import Testing

/// The seeded rollout through the production reconciliation planner (`simulate --rollout`).
@Suite struct RolloutSimulationTests {
    static func run(seed: UInt64) -> RolloutReport {
        // Small enough to run in a second in a debug build: the suite shares two cores.
        var configuration = RolloutSimulation.Configuration(nodes: 250, tenants: 1, seed: seed)
        configuration.tailAfterSyncMs = 0
        configuration.maxParallel = 16
        configuration.maxParallelPerDomain = 6
        var simulation = RolloutSimulation(configuration: configuration)
        return simulation.run()
    }

    @Test func remediationStaysBoundedTheFailingZoneHaltsAndTheHealthyFleetConverges() async throws {
        let report = await offThePool { Self.run(seed: 7) }
        #expect(report.stats.peakPerItem == 16, "maxParallel 16 must be reached and never exceeded")
        #expect(report.stats.peakPerItemZone == 6)
        let halted = try #require(report.stats.haltedAtMs, "the failing zone never halted")
        #expect(halted < 60_000)
        #expect(report.stats.healthyInSyncAtMs != nil, "\(report.text)")
        #expect(report.stats.healthyNotInSync.isEmpty)
        // 50 nodes in the failing zone; the halt stops it long before all were tried.
        #expect(report.stats.outageApplies < 25, "\(report.text)")
        #expect((report.finalStates[.haltedDomain] ?? 0) > 25)
    }

    @Test func sameSeedSameReport() async {
        let texts = await offThePool { [3, 3, 4].map { Self.run(seed: $0).text } }
        #expect(texts[0] == texts[1])
        #expect(texts[0] != texts[2])
    }
}
