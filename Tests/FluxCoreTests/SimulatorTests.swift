import FluxSim
import FluxTesting
import Testing

@Suite struct SimulatorTests {
    static func run(_ scenario: Scenario, seed: UInt64 = 42, tasks: Int = 6_000) -> SimulationReport {
        var simulator = Simulator(configuration: SimulationConfiguration(
            nodes: 400, tenants: 8, tasks: tasks, seed: seed, scenario: scenario))
        return simulator.run()
    }

    @Test func sameSeedGivesTheSameReport() async {
        let texts = await offThePool { [42, 42, 43].map { Self.run(.all, seed: UInt64($0)).text } }
        #expect(texts[0] == texts[1])
        #expect(texts[2] != texts[0])
    }

    @Test func baselineCompletesEverything() async {
        let report = await offThePool { Self.run(.baseline) }
        #expect(report.submitted == 6_000)
        #expect(report.succeeded + report.failed == 6_000)
        #expect(report.rejected == 0 && report.shed == 0 && report.suspended == 0)
    }

    /// Liars report perfect health while failing 80 % of their jobs: the 5-failure rule stops
    /// trusting them and the failure rate sinks their score. Every one is quarantined within
    /// 15 s of virtual time, and no honest node is.
    @Test func liarsAreQuarantined() async {
        let report = await offThePool { Self.run(.liars, tasks: 20_000) }
        #expect(report.liars == 8)
        #expect(report.liarsQuarantined == report.liars)
        #expect(report.lastLiarQuarantine.map { $0 < 15_000 } == true)
        #expect(report.text.contains("honest nodes quarantined 0"))
    }

    @Test func poisonTasksAreSuspended() async {
        let report = await offThePool { Self.run(.poison) }
        #expect(report.suspended == 3, "tasks numbered 1999, 3999 and 5999 crash everywhere")
    }
}
