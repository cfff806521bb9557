import ArgumentParser
import FluxAPI
import FluxClient
import Foundation

/// `fluxforge desired …`: desired-state resources of the tenant (docs/reconciliation.md).
struct DesiredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desired", abstract: "Declare, inspect and steer desired states (check → drift → remediate → verify).",
        subcommands: [
            DesiredListCommand.self, DesiredGetCommand.self, DesiredApplyCommand.self, DesiredDeleteCommand.self,
            DesiredNodesCommand.self, DesiredActionCommand.self,
        ])
}

struct DesiredListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "The tenant's desired states and how many nodes are in each state.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withSession { session in
            let list = try await session.api.decode(DesiredStateList.self, .GET, try session.tenantPath("/desired"))
            try session.show(list) { list in
                guard !list.items.isEmpty else { return "no desired states" }
                return TextTable(headers: ["NAME", "GENERATION", "NODES"], rows: list.items.map { item in
                    [item.name, String(item.generation), item.summary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")]
                }).render()
            }
        }
    }
}

struct DesiredGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One desired state: its spec and summary.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Name.") var name: String

    func run() async throws {
        try await client.withSession { session in
            let item = try await session.api.decode(DesiredStateView.self, .GET, try session.tenantPath("/desired/\(name)"))
            try session.show(item) { item in
                [
                    "name:       \(item.name) (generation \(item.generation))",
                    "check:      \(TaskTables.commandLine(item.spec.check, limit: 200))",
                    "apply:      \(TaskTables.commandLine(item.spec.apply, limit: 200))",
                    "every:      \(item.spec.intervalSeconds) s; at most \(item.spec.maxParallel) nodes at once, \(item.spec.maxParallelPerDomain) per zone",
                    "nodes:      " + item.summary.sorted { $0.key < $1.key }.map { "\(session.painter.state($0.key))=\($0.value)" }.joined(separator: " "),
                ].joined(separator: "\n")
            }
        }
    }
}

struct DesiredApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create or replace a desired state from a JSON file (the body of `PUT …/desired/{name}`).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Name.") var name: String
    @Option(name: [.customShort("f"), .long], help: "JSON file with the spec (`-` for stdin).") var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : (FileManager.default.contents(atPath: file) ?? Data())
        guard !data.isEmpty else { CLISession.fail(ClientConfigError("\(file) is empty or unreadable")) }
        try await client.withSession { session in
            let answer = try await session.api.call(.PUT, try session.tenantPath("/desired/\(name)"), body: data)
            let item = try JSONDecoder().decode(DesiredStateView.self, from: answer.body)
            try session.show(item) { "\($0.name): generation \($0.generation)" + (answer.status == 201 ? " (created)" : "") }
        }
    }
}

struct DesiredDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Stop reconciling a desired state and remove it.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Name.") var name: String

    func run() async throws {
        try await client.withSession { session in
            _ = try await session.api.call(.DELETE, try session.tenantPath("/desired/\(name)"))
            print("\(name): deleted")
        }
    }
}

struct DesiredNodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "Each node's reconciliation state for one desired state.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Name.") var name: String

    func run() async throws {
        try await client.withSession { session in
            let list = try await session.api.decode(DesiredNodeList.self, .GET, try session.tenantPath("/desired/\(name)/nodes"))
            try session.show(list) { list in
                guard !list.nodes.isEmpty else { return "no nodes yet" }
                return TextTable(headers: ["NODE", "STATE", "REASON", "ZONE", "DRIFTS", "LAST CHECK", "TASK"], rows: list.nodes.map { node in
                    [node.node, node.state, node.reason.isEmpty ? "-" : node.reason, node.zone.isEmpty ? "-" : node.zone, String(node.drifts),
                     clock(node.lastCheckAtMs), node.taskId ?? "-"]
                }).render { column, cell in column == 1 ? session.painter.state(cell) : cell }
            }
        }
    }
}

struct DesiredActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "do", abstract: "reconcile (check now, lift a halt), pause or resume a desired state.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "reconcile, pause or resume.") var action: String
    @Argument(help: "Name.") var name: String

    func validate() throws {
        guard ["reconcile", "pause", "resume"].contains(action) else { throw ValidationError("action must be reconcile, pause or resume") }
    }

    func run() async throws {
        try await client.withSession { session in
            let item = try await session.api.decode(DesiredStateView.self, .POST, try session.tenantPath("/desired/\(name):\(action)"))
            try session.show(item) { "\($0.name): \(action) done (generation \($0.generation))" }
        }
    }
}
