import ArgumentParser
import FluxAPI
import FluxClient
import Foundation
import NIOHTTP1

/// `fluxforge tasks …`: a tenant's tasks through the router's API (docs/cli.md).
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Submit, list, inspect, watch, cancel and resume tasks.",
        subcommands: [
            TasksSubmitCommand.self, TasksListCommand.self, TasksGetCommand.self, TasksTimelineCommand.self,
            TasksExplainCommand.self, TasksWatchCommand.self, TasksCancelCommand.self, TasksResumeCommand.self,
        ])
}

struct TasksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "The tenant's tasks, oldest first (the API's order; --all for every page).")

    @OptionGroup var client: ClientOptions
    @Option(help: "Only tasks in this state (e.g. RUNNING, FAILED).")
    var state: String?
    @Option(help: "Tasks per page (1…500).")
    var limit: Int = 50
    @Option(help: "Start at this cursor (printed under a full page).")
    var cursor: String?
    @Flag(help: "Follow the cursor to the end (every page).")
    var all = false

    func run() async throws {
        try await client.withSession { session in
            var page = try await fetch(session, cursor: cursor)
            var tasks = page.tasks
            while all, let next = page.nextCursor {
                page = try await fetch(session, cursor: next)
                tasks += page.tasks
            }
            try session.show(TaskPage(tasks: tasks, nextCursor: page.nextCursor)) { listing in
                var text = TaskTables.tasks(listing.tasks, painter: session.painter)
                if let next = listing.nextCursor { text += "\nmore: --cursor \(next)" }
                return text
            }
        }
    }

    private func fetch(_ session: CLISession, cursor: String?) async throws -> TaskPage {
        var query = ["limit=\(limit)"]
        if let state { query.append("state=\(state.uppercased())") }
        if let cursor { query.append("cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)") }
        return try await session.api.decode(TaskPage.self, .GET, try session.tenantPath("/tasks?" + query.joined(separator: "&")))
    }
}

/// The commands that act on one task by id: call `…/tasks/{id}` plus a suffix and print the
/// answer; each says only what differs.
protocol OneTaskCommand: AsyncParsableCommand {
    associatedtype Answer: Codable
    var client: ClientOptions { get }
    var id: String { get }
    static var method: HTTPMethod { get }
    static var suffix: String { get }
    static func table(_ answer: Answer, painter: Painter) -> String
}

extension OneTaskCommand {
    static var method: HTTPMethod { .GET }

    func run() async throws {
        try await client.withSession { session in
            let answer = try await session.api.decode(Answer.self, Self.method, try session.tenantPath("/tasks/\(try checkedTaskID(id))\(Self.suffix)"))
            try session.show(answer) { Self.table($0, painter: session.painter) }
        }
    }
}

struct TasksGetCommand: OneTaskCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One task: state, node, attempt, result.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var id: String
    static let suffix = ""
    static func table(_ task: TaskView, painter: Painter) -> String { TaskTables.detail(task, painter: painter) }
}

struct TasksTimelineCommand: OneTaskCommand {
    static let configuration = CommandConfiguration(commandName: "timeline", abstract: "Every state change of a task, oldest first.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var id: String
    static let suffix = "/timeline"
    static func table(_ page: TimelinePage, painter: Painter) -> String { TaskTables.timeline(page.entries, painter: painter) }
}

struct TasksExplainCommand: OneTaskCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Why a task is where it is.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var id: String
    static let suffix = "/explain"
    static func table(_ view: TaskExplanationView, painter: Painter) -> String { TaskTables.explanation(view, painter: painter) }
}

struct TasksCancelCommand: OneTaskCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a task that has not finished.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var id: String
    static let method = HTTPMethod.POST
    static let suffix = "/cancel"
    static func table(_ task: TaskView, painter: Painter) -> String { "\(task.id)  \(painter.state(task.state))" }
}

struct TasksResumeCommand: OneTaskCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a SUSPENDED (poison) task.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var id: String
    static let method = HTTPMethod.POST
    static let suffix = "/resume"
    static func table(_ task: TaskView, painter: Painter) -> String { "\(task.id)  \(painter.state(task.state))" }
}

struct TasksWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print state changes as they happen: one task's until it ends, or all of the tenant's.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id (leave out to watch every task of the tenant until interrupted).")
    var id: String?
    @Option(help: "With no id: only changes into these states (comma-separated, e.g. SUCCEEDED,FAILED).")
    var to: String?

    func run() async throws {
        try await client.withSession { session in
            if let id {
                let ending = try await TaskWatcher(session: session).follow(try checkedTaskID(id))
                if session.output == .table { print("end: \(session.painter.state(ending))") }
                return
            }
            let query = to.map { "?to=\($0.uppercased())" } ?? ""
            for try await event in try await session.api.events(try session.tenantPath("/events" + query)) where event.event == "transition" {
                let change = try JSONDecoder().decode(TaskEvent.self, from: Data(event.data.utf8))
                switch session.output {
                case .json: print(event.data)
                case .table: print(TaskTables.change(change, painter: session.painter))
                }
                fflush(nil)
            }
        }
    }
}
