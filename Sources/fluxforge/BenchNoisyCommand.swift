import ArgumentParser
import FluxLoad
import Foundation
import Logging

/// `fluxforge bench noisy`: the noisy-neighbour benchmark against a running cluster — a quiet
/// tenant's submit → dispatch latency alone and while another tenant floods (docs/performance.md).
struct BenchNoisyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noisy", abstract: "A quiet tenant's latency alone and during another tenant's flood (see docs/performance.md).")

    @OptionGroup var endpoint: RouterEndpoint
    @Option(help: "Simulated agents, split between the two tenants.")
    var agents = 200
    @Option(help: "Attempts one simulated agent runs at once.")
    var capacity = 16
    @Option(help: "Milliseconds a simulated agent takes per task.")
    var serviceMs = 0
    @Option(help: "The quiet tenant's tasks per second (one per request).")
    var quietRate = 50
    @Option(help: "The flood's requests in flight.")
    var floodConcurrency = 16
    @Option(help: "The flood's tasks per request.")
    var floodBatch = 100
    @Option(help: "Seconds of each phase (quiet alone, then with the flood).")
    var seconds = 10
    @Option(help: "The flood tenant's rateLimitPerSec (default: the door's default for every tenant).")
    var floodRateLimit = 2_000
    @Flag(help: "Give the tenants names of different slots (by default they share one).")
    var differentSlots = false
    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    func validate() throws {
        guard (2...100_000).contains(agents), (1...1_024).contains(capacity), (0...600_000).contains(serviceMs) else {
            throw ValidationError("bad --agents (2…100000), --capacity or --service-ms")
        }
        guard (1...100_000).contains(quietRate), (1...1_024).contains(floodConcurrency), (1...1_000).contains(floodBatch),
              (3...3_600).contains(seconds), (1...1_000_000).contains(floodRateLimit) else {
            throw ValidationError("bad --quiet-rate, --flood-concurrency, --flood-batch (1…1000) or --seconds (3…3600)")
        }
    }

    func run() async throws {
        var load = LoadConfiguration(api: endpoint.api, agentURL: endpoint.agentURL, adminToken: endpoint.resolvedAdminToken ?? "")
        load.agents = agents
        load.agentCapacity = capacity
        load.serviceTime = .milliseconds(serviceMs)
        var configuration = NoisyNeighbourRun.Configuration(load: load)
        configuration.quietRate = quietRate
        configuration.floodConcurrency = floodConcurrency
        configuration.floodBatch = floodBatch
        configuration.phaseSeconds = seconds
        configuration.sameSlot = !differentSlots
        configuration.floodSettings.rateLimitPerSec = floodRateLimit
        var logger = Logger(label: "fluxforge.bench.noisy")
        logger.logLevel = .notice
        let report = try await NoisyNeighbourRun(configuration: configuration, logger: logger).run()
        print(report.table())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }
}
