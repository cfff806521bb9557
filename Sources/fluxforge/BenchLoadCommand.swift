import ArgumentParser
import FluxLoad
import Foundation
import Logging

/// `fluxforge bench load`: end-to-end load against a running cluster (cluster/up or cluster/bench):
/// simulated agents through the router, paced submissions, latency percentiles, CPU and memory
/// of each process, Redis commands per task. Prints a table; `--json` writes the figures.
struct BenchLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "End-to-end load through the router with simulated agents (see docs/performance.md).")

    @OptionGroup var endpoint: RouterEndpoint

    @Option(help: "Redis URL, for Redis commands per task and Redis CPU/RSS (optional).")
    var redis: String?

    @Option(help: "Simulated agents (WebSocket sessions through the router).")
    var agents = 1_000

    @Option(help: "Tenants the agents and submissions are spread over.")
    var tenants = 4

    @Option(help: "Attempts one simulated agent runs at once.")
    var capacity = 16

    @Option(help: "Milliseconds a simulated agent takes per task.")
    var serviceMs = 0

    @Option(help: "Open loop at this many tasks/s; without it, closed loop at maximum.")
    var rate: Int?

    @Option(help: "Closed loop: requests in flight.")
    var concurrency = 32

    @Option(help: "Tasks per request (1: POST /tasks; more: POST /tasks:batch).")
    var batch = 1

    @Option(help: "Seconds of submitting.")
    var seconds = 20

    @OptionGroup var processes: ProcessArguments

    @Option(help: "Directory of the cluster CA (ca.crt, ca.key): each simulated agent gets its own certificate minted from it and connects over mutual TLS (--agent-url wss://…).")
    var agentCA: String?

    @Option(help: "SPIFFE trust domain of the minted agent certificates.")
    var trustDomain = "fluxforge"

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Seconds to wait after the run before reading Redis's memory (finished tasks' streams go 60 s after they end).")
    var memorySettleSeconds = 0

    func validate() throws {
        guard (1...100_000).contains(agents), (1...1_000).contains(tenants), tenants <= agents else {
            throw ValidationError("need 1 ≤ --tenants ≤ --agents ≤ 100000")
        }
        guard (1...1_024).contains(capacity), (0...600_000).contains(serviceMs) else { throw ValidationError("bad --capacity or --service-ms") }
        guard (1...1_000).contains(batch), (1...3_600).contains(seconds), (1...4_096).contains(concurrency) else {
            throw ValidationError("bad --batch (1…1000), --seconds (1…3600) or --concurrency (1…4096)")
        }
        if let rate, !(1...10_000_000).contains(rate) { throw ValidationError("--rate must be within 1…10000000") }
        guard (0...600).contains(memorySettleSeconds) else { throw ValidationError("--memory-settle-seconds must be within 0…600") }
    }

    func run() async throws {
        var configuration = LoadConfiguration(api: endpoint.api, agentURL: endpoint.agentURL, adminToken: endpoint.resolvedAdminToken ?? "")
        configuration.redisURL = redis
        configuration.agents = agents
        configuration.tenants = tenants
        configuration.agentCapacity = capacity
        configuration.serviceTime = .milliseconds(serviceMs)
        configuration.pacing = rate.map { .open(tasksPerSecond: $0) } ?? .closed(concurrency: concurrency)
        configuration.batchSize = batch
        configuration.duration = .seconds(seconds)
        configuration.agentCertificates = try agentCA.map { try AgentCertificates(caDirectory: $0, trustDomain: trustDomain) }
        configuration.processes = processes.byName
        configuration.memorySettle = .seconds(memorySettleSeconds)
        var logger = Logger(label: "fluxforge.bench.load")
        logger.logLevel = .notice
        let report = try await LoadRun(configuration: configuration, logger: logger).run()
        print(report.table())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }
}
