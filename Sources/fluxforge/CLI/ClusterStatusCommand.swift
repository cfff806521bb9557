import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge cluster …`: the operator's view through the router (admin token).
struct ClusterAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Shards, slots, modes and queues; set the scheduler mode (admin token).",
        subcommands: [ClusterStatusCommand.self, ClusterModeCommand.self])
}

/// What `cluster status -o json` prints: the membership view and the aggregated snapshot.
struct ClusterStatus: Codable {
    var cluster: ClusterView
    var snapshot: ClusterSnapshotView
}

struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Each shard: slots, mode, agents, queues; tenants' queue depth and oldest age; quarantined nodes.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withSession { session in
            async let cluster = session.api.decode(ClusterView.self, .GET, "/v1/admin/cluster")
            async let snapshot = session.api.decode(ClusterSnapshotView.self, .GET, "/scheduler/debug/snapshot")
            try session.show(ClusterStatus(cluster: try await cluster, snapshot: try await snapshot)) { Self.render($0, painter: session.painter) }
        }
    }

    static func render(_ status: ClusterStatus, painter: Painter) -> String {
        let byShard = Dictionary(status.snapshot.shards.map { ($0.shard, $0) }, uniquingKeysWith: { first, _ in first })
        let shards = TextTable(headers: ["SHARD", "LIVE", "SLOTS", "MODE", "AGENTS", "WAITING", "IN FLIGHT", "HEARTBEAT"], rows: status.cluster.members.sorted { ($0.live ? 0 : 1, $0.id) < ($1.live ? 0 : 1, $1.id) }.map { member in
            let shard = byShard[member.id]
            return [member.id, member.live ? "yes" : "no", String(member.slotsHeld), shard?.mode.mode ?? (status.snapshot.unreachable[member.id] != nil ? "unreachable" : "-"),
                    shard.map { String($0.agentsConnected) } ?? "-", shard.map { String($0.waitingTasks) } ?? "-",
                    shard.map { String($0.inFlightTasks) } ?? "-", age(member.heartbeatAgeMs)]
        }).render { column, cell in column == 3 || column == 1 ? painter.state(cell) : cell }
        var lines = [shards, ""]
        let unowned = status.cluster.unownedSlots.count
        lines.append("slots: \(status.cluster.slotCount), unowned \(unowned)" + (unowned > 0 ? " (\(status.cluster.unownedSlots.prefix(10).map(String.init).joined(separator: ",")))" : ""))
        let tenants = status.snapshot.shards.flatMap(\.tenants).filter { $0.waiting > 0 }
        if !tenants.isEmpty {
            lines += ["", TextTable(headers: ["TENANT", "WAITING", "OLDEST"], rows: tenants.sorted { $0.waiting > $1.waiting }.map {
                [$0.tenant, String($0.waiting), age($0.oldestWaitingAgeMs)]
            }).render()]
        }
        let quarantined = status.snapshot.shards.flatMap(\.quarantinedNodes)
        if !quarantined.isEmpty {
            lines += ["", TextTable(headers: ["QUARANTINED NODE", "TENANT", "SCORE", "FAILURES"], rows: quarantined.map {
                [$0.node, $0.tenant, String(format: "%.2f", $0.score), String(format: "%.2f", $0.observedFailureRate)]
            }).render()]
        }
        let throttled = status.snapshot.shards.flatMap(\.domains).filter(\.throttled)
        if !throttled.isEmpty {
            lines += ["", "throttled failure domains: " + throttled.map { "\($0.domain) (\(String(format: "%.0f%%", $0.failureRate * 100)))" }.joined(separator: ", ")]
        }
        for (shard, why) in status.snapshot.unreachable.sorted(by: { $0.key < $1.key }) { lines.append(painter.state("unreachable") + " \(shard): \(why)") }
        return lines.joined(separator: "\n")
    }
}

struct ClusterModeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mode", abstract: "Force NORMAL, DEGRADED or READ_ONLY on every shard (or one), or `auto` to clear the override.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "NORMAL, DEGRADED, READ_ONLY or auto.") var mode: String
    @Option(help: "Only this shard.") var shard: String?

    func run() async throws {
        try await client.withSession { session in
            let request = SchedulerModeRequest(mode: mode.lowercased() == "auto" ? nil : mode.uppercased(), shard: shard)
            let view = try await session.api.decode(ClusterModeView.self, .PUT, "/v1/admin/scheduler/mode", json: request)
            try session.show(view) { view in
                var rows = view.shards.sorted { $0.key < $1.key }.map { [$0.key, $0.value.mode, $0.value.override ?? "-"] }
                rows += view.unreachable.sorted { $0.key < $1.key }.map { [$0.key, "unreachable", $0.value] }
                return TextTable(headers: ["SHARD", "MODE", "OVERRIDE"], rows: rows).render { column, cell in column == 1 ? session.painter.state(cell) : cell }
            }
        }
    }
}
