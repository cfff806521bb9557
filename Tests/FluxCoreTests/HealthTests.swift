import Testing
@testable import FluxCore

@Suite struct HealthTests {
    let configuration = HealthConfiguration()

    func approximately(_ lhs: Double, _ rhs: Double) -> Bool { abs(lhs - rhs) < 1e-9 }

    @Test func formulaWeightsEachComponent() {
        var health = NodeHealth(now: .zero)
        #expect(approximately(health.score(at: .zero, configuration: configuration).value, 1.0))
        _ = health.recordAgentReport(0.5, now: .zero, configuration: configuration)
        #expect(approximately(health.score(at: .zero, configuration: configuration).value, 0.9))
        _ = health.recordProbe(.failed, now: .zero, configuration: configuration)
        #expect(approximately(health.score(at: .zero, configuration: configuration).value, 0.6))
        _ = health.recordJob(failed: true, now: .zero, configuration: configuration)
        // failure rate 0.2 (α = 0.2): 0.2·0.5 + 0.5·0.8 + 0.3·0 = 0.5
        let score = health.score(at: .zero, configuration: configuration)
        #expect(approximately(score.failureRate, 0.2))
        #expect(approximately(score.value, 0.5))
    }

    @Test func probeRoundTripMapsLinearly() {
        var health = NodeHealth(now: .zero)
        _ = health.recordProbe(.ok(roundTrip: .milliseconds(50)), now: .zero, configuration: configuration)
        #expect(approximately(health.probe, 1))
        _ = health.recordProbe(.ok(roundTrip: .milliseconds(1_050)), now: .zero, configuration: configuration)
        #expect(approximately(health.probe, 0.5))
        _ = health.recordProbe(.ok(roundTrip: .seconds(5)), now: .zero, configuration: configuration)
        #expect(approximately(health.probe, 0))
    }

    @Test func fiveFailedJobsDistrustTheSelfReportUntilASuccess() {
        var health = NodeHealth(now: .zero)
        for _ in 0..<4 { _ = health.recordJob(failed: true, now: .zero, configuration: configuration) }
        #expect(health.score(at: .zero, configuration: configuration).effectiveAgentReport == 1)
        _ = health.recordJob(failed: true, now: .zero, configuration: configuration)
        let distrusted = health.score(at: .zero, configuration: configuration)
        #expect(distrusted.effectiveAgentReport == 0)
        #expect(distrusted.agentReport == 1)
        _ = health.recordJob(failed: false, now: .zero, configuration: configuration)
        #expect(health.score(at: .zero, configuration: configuration).effectiveAgentReport == 1)
    }

    @Test func quarantineHasHysteresis() {
        var health = NodeHealth(now: .zero)
        _ = health.recordProbe(.failed, now: .zero, configuration: configuration)  // 0.7
        var changes: [NodeHealth.Change] = []
        for _ in 0..<3 { changes.append(health.recordJob(failed: true, now: .zero, configuration: configuration)) }
        // rates 0.2, 0.36, 0.488 → scores 0.6, 0.52, 0.456
        #expect(changes == [.none, .none, .quarantined])
        #expect(health.isQuarantined)
        _ = health.recordProbe(.ok(roundTrip: .milliseconds(10)), now: .zero, configuration: configuration)
        // 0.2 + 0.5·0.512 + 0.3 = 0.756 > 0.7: released only now
        #expect(!health.isQuarantined)
        var second = NodeHealth(now: .zero)
        _ = second.recordProbe(.failed, now: .zero, configuration: configuration)
        for _ in 0..<3 { _ = second.recordJob(failed: true, now: .zero, configuration: configuration) }
        _ = second.recordProbe(.ok(roundTrip: .milliseconds(1_400)), now: .zero, configuration: configuration)
        // probe ≈ 0.316: score ≈ 0.2 + 0.256 + 0.095 = 0.551, above 0.5 but not above 0.7
        #expect(second.isQuarantined)
    }

    @Test func failureRateFadesWithTimeAndReleasesAQuarantinedNode() {
        var health = NodeHealth(now: .zero)
        for _ in 0..<8 { _ = health.recordJob(failed: true, now: .zero, configuration: configuration) }
        #expect(health.isQuarantined)
        #expect(health.evaluate(now: at(5), configuration: configuration) == .none, "no decay step within 10 s")
        // report distrusted (0); needs 0.5·(1 − r) + 0.3 > 0.7, i.e. r < 0.2, with r ≈ 0.832·0.8^n.
        var released: Int?
        for seconds in stride(from: 10, through: 200, by: 10) where released == nil {
            if health.evaluate(now: at(Double(seconds)), configuration: configuration) == .released { released = seconds }
        }
        #expect(released == 70)
    }
}
