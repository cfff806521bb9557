import ArgumentParser
import FluxSim
import Foundation

/// `fluxforge simulate`: a deterministic whole-system run of the scheduler with simulated agents.
/// The report on stdout depends only on the options (same seed ⇒ same bytes); wall-clock figures
/// go to stderr.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Drive the scheduler with simulated agents in virtual time and print a deterministic report.")

    @Option(help: "Simulated nodes.")
    var nodes = 10_000
    @Option(help: "Tenants.")
    var tenants = 200
    @Option(help: "Tasks (the flood scenario adds 30 % on top).")
    var tasks = 1_000_000
    @Option(help: "Seed of every random choice; a failure reproduces with the same seed.")
    var seed: UInt64 = 42
    @Option(help: "Faults to inject: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario = Scenario.all.rawValue
    @Flag(help: "Instead: a fleet-wide desired-state change through the reconciliation planner (zone outage, lying nodes).")
    var rollout = false

    func validate() throws {
        guard nodes > 0, tenants > 0, tasks >= 0 else { throw ValidationError("nodes and tenants must be positive") }
        guard Scenario(rawValue: scenario) != nil else { throw ValidationError("unknown scenario \(scenario)") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        if rollout {
            var simulation = RolloutSimulation(configuration: .init(nodes: nodes, tenants: tenants, seed: seed))
            FileHandle.standardOutput.write(Data(simulation.run().text.utf8))
            FileHandle.standardError.write(Data("timing: \(clock.now - start) wall\nreproduce with --rollout --seed \(seed)\n".utf8))
            return
        }
        var simulator = Simulator(configuration: SimulationConfiguration(
            nodes: nodes, tenants: tenants, tasks: tasks, seed: seed, scenario: Scenario(rawValue: scenario) ?? .all))
        let report = simulator.run()
        let elapsed = clock.now - start
        FileHandle.standardOutput.write(Data(report.text.utf8))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Int(Double(report.events) / seconds) : 0
        FileHandle.standardError.write(Data(
            "timing: \(report.events) scheduler events in \(String(format: "%.2f", seconds)) s wall = \(rate) events/s (includes the simulated agents)\nreproduce with --seed \(seed) --scenario \(scenario)\n".utf8))
    }
}
