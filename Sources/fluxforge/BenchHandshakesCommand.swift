import ArgumentParser
import FluxLoad
import Foundation

/// `fluxforge bench handshakes`: full mutual-TLS handshakes per second at an agent listener,
/// with a certificate minted from the cluster CA (docs/performance.md, "TLS").
struct BenchHandshakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshakes", abstract: "Mutual-TLS handshakes per second at an agent listener (see docs/performance.md).")

    @Option(help: "The agent listener, https://host:port (a router's or a shard's --agent-port with --agent-tls-*).")
    var url = "https://127.0.0.1:7301"

    @Option(help: "Directory of the cluster CA (ca.crt and ca.key): the client certificate is minted from it.")
    var agentCA: String

    @Option(help: "SPIFFE trust domain of the minted certificate.")
    var trustDomain = "fluxforge"

    @Option(help: "Clients handshaking in parallel.")
    var concurrency = 32

    @Option(help: "Seconds of handshaking.")
    var seconds = 10

    @OptionGroup var processes: ProcessArguments

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    func validate() throws {
        guard url.hasPrefix("https://") else { throw ValidationError("--url must be https://host:port") }
        guard (1...4_096).contains(concurrency), (1...3_600).contains(seconds) else { throw ValidationError("bad --concurrency (1…4096) or --seconds (1…3600)") }
    }

    func run() async throws {
        let certificates = try AgentCertificates(caDirectory: agentCA, trustDomain: trustDomain)
        var configuration = HandshakeRun.Configuration(url: url, tls: try certificates.clientConfiguration(tenant: "bench", node: "handshaker"))
        configuration.concurrency = concurrency
        configuration.duration = .seconds(seconds)
        configuration.processes = processes.byName
        let report = try await HandshakeRun(configuration: configuration).run()
        print(report.table())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }
}
