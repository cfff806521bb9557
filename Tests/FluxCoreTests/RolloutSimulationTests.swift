import FluxCore
import FluxSim
import Testing

/// The seeded rollout through the production reconciliation planner (`simulate --rollout`).
@Suite struct RolloutSimulationTests {
    func run(seed: UInt64) -> RolloutReport {
        // Small enough to run in a second in a debug build: the suite shares two cores.
        var configuration = RolloutSimulation.Configuration(nodes: 400, tenants: 2, seed: seed)
        configuration.maxParallel = 16
        configuration.maxParallelPerDomain = 6
        var simulation = RolloutSimulation(configuration: configuration)
        return simulation.run()
    }

    @Test func remediationStaysBoundedTheFailingZoneHaltsAndTheHealthyFleetConverges() throws {
        let report = run(seed: 7)
        #expect(report.stats.peakPerItem == 16, "maxParallel 16 must be reached and never exceeded")
        #expect(report.stats.peakPerItemZone == 6)
        let halted = try #require(report.stats.haltedAtMs, "the failing zone never halted")
        #expect(halted < 60_000)
        #expect(report.stats.healthyInSyncAtMs != nil, "\(report.text)")
        #expect(report.stats.healthyNotInSync.isEmpty)
        // 80 nodes in the failing zone; the halt stops it long before all were tried.
        #expect(report.stats.outageApplies < 40, "\(report.text)")
        #expect((report.finalStates[.haltedDomain] ?? 0) > 40)
    }

    @Test func sameSeedSameReport() {
        let first = run(seed: 3).text
        #expect(first == run(seed: 3).text)
        #expect(first != run(seed: 4).text)
    }
}
