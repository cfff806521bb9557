import FluxCore
import FluxSim
import Testing

/// The seeded rollout through the production reconciliation planner (`simulate --rollout`).
@Suite struct RolloutSimulationTests {
    func run(seed: UInt64) -> RolloutReport {
        var configuration = RolloutSimulation.Configuration(nodes: 1_000, tenants: 2, seed: seed)
        configuration.maxParallel = 40
        configuration.maxParallelPerDomain = 12
        var simulation = RolloutSimulation(configuration: configuration)
        return simulation.run()
    }

    @Test func remediationStaysBoundedTheFailingZoneHaltsAndTheHealthyFleetConverges() throws {
        let report = run(seed: 7)
        #expect(report.stats.peakPerItem == 40, "maxParallel 40 must be reached and never exceeded")
        #expect(report.stats.peakPerItemZone == 12)
        let halted = try #require(report.stats.haltedAtMs, "the failing zone never halted")
        #expect(halted < 60_000)
        #expect(report.stats.healthyInSyncAtMs != nil, "\(report.text)")
        #expect(report.stats.healthyNotInSync.isEmpty)
        // 200 nodes in the failing zone; the halt stops it long before all were tried.
        #expect(report.stats.outageApplies < 100, "\(report.text)")
        #expect((report.finalStates[.haltedDomain] ?? 0) > 100)
    }

    @Test func sameSeedSameReport() {
        let first = run(seed: 3).text
        #expect(first == run(seed: 3).text)
        #expect(first != run(seed: 4).text)
    }
}
