import FluxSim
import Testing

@Suite struct SimulatorTests {
    static func run(_ scenario: Scenario, seed: UInt64 = 42, tasks: Int = 6_000) -> SimulationReport {
        var simulator = Simulator(configuration: SimulationConfiguration(
            nodes: 400, tenants: 8, tasks: tasks, seed: seed, scenario: scenario))
        return simulator.run()
    }

    @Test func sameSeedGivesTheSameReport() {
        let first = Self.run(.all)
        let second = Self.run(.all)
        #expect(first.text == second.text)
        #expect(Self.run(.all, seed: 43).text != first.text)
    }

    @Test func baselineCompletesEverything() {
        let report = Self.run(.baseline)
        #expect(report.submitted == 6_000)
        #expect(report.succeeded + report.failed == 6_000)
        #expect(report.rejected == 0 && report.shed == 0 && report.suspended == 0)
    }

    /// Liars report perfect health while failing 80 % of their jobs: the 5-failure rule stops
    /// trusting them and the failure rate sinks their score. Every one is quarantined within
    /// 15 s of virtual time, and no honest node is.
    @Test func liarsAreQuarantined() {
        let report = Self.run(.liars, tasks: 20_000)
        #expect(report.liars == 8)
        #expect(report.liarsQuarantined == report.liars)
        #expect(report.lastLiarQuarantine.map { $0 < 15_000 } == true)
        #expect(report.text.contains("honest nodes quarantined 0"))
    }

    @Test func poisonTasksAreSuspended() {
        let report = Self.run(.poison)
        #expect(report.suspended == 3, "tasks numbered 1999, 3999 and 5999 crash everywhere")
    }
}
