import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge nodes ls`: the tenant's nodes with their health score and its three parts.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "The tenant's nodes and their health.", subcommands: [NodesListCommand.self])
}

struct NodesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "Nodes: score and its parts (agent report, observed failures, external probe), quarantine, zone.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withSession { session in
            let list = try await session.api.decode(NodeList.self, .GET, try session.tenantPath("/nodes"))
            try session.show(list) { Self.table($0.nodes, painter: session.painter) }
        }
    }

    static func table(_ nodes: [NodeView], painter: Painter) -> String {
        guard !nodes.isEmpty else { return "no nodes" }
        let rows = nodes.sorted { $0.node < $1.node }.map { node in
            [
                node.node, node.connected ? "connected" : "gone", String(format: "%.2f", node.score),
                node.selfReportIgnored ? String(format: "%.2f (ignored)", node.agentReport) : String(format: "%.2f", node.agentReport),
                String(format: "%.2f", node.observedFailureRate), String(format: "%.2f", node.externalProbe),
                node.quarantined ? "QUARANTINED" : "no", "\(node.running)/\(node.capacity)", node.zone.isEmpty ? "-" : node.zone,
            ]
        }
        return TextTable(headers: ["NODE", "SESSION", "SCORE", "AGENT", "FAILURES", "PROBE", "QUARANTINE", "RUNNING", "ZONE"], rows: rows)
            .render { column, cell in column == 1 || column == 6 ? painter.state(cell) : cell }
    }
}
