import FluxAPI
import FluxClient
import Foundation

/// How tasks and their history look in a terminal: one place, so every command prints them
/// alike.
enum TaskTables {
    static func tasks(_ tasks: [TaskView], painter: Painter) -> String {
        guard !tasks.isEmpty else { return "no tasks" }
        let table = TextTable(
            headers: ["ID", "STATE", "PRI", "ATTEMPT", "NODE", "AGE", "EXIT", "COMMAND"],
            rows: tasks.map { task in
                [task.id, task.state, String(task.priority), String(task.attempt), task.assignedNode ?? task.node ?? "-",
                 age(nowMs() - task.createdAtMs), task.result.map { String($0.exitCode) } ?? "-", commandLine(task.command, limit: 48)]
            })
        return table.render { column, cell in column == 1 ? painter.state(cell) : cell }
    }

    static func detail(_ task: TaskView, painter: Painter) -> String {
        var lines = [
            "id:        \(task.id)", "state:     \(painter.state(task.state))" + (task.reason.map { "  (\($0))" } ?? ""),
            "command:   \(commandLine(task.command, limit: 200))", "priority:  \(task.priority)   cpu cost: \(task.cpuCost)",
            "attempt:   \(task.attempt)   node: \(task.assignedNode ?? task.node ?? "-")",
            "created:   \(clock(task.createdAtMs))   updated: \(clock(task.updatedAtMs))",
        ]
        if let deadline = task.deadlineAtMs { lines.append("deadline:  \(clock(deadline))") }
        if let result = task.result {
            lines.append("exit code: \(result.exitCode)   ran: \(age(Int64(result.durationMs)))")
            if !result.outputTail.isEmpty { lines.append("output:\n" + result.outputTail.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")) }
        }
        return lines.joined(separator: "\n")
    }

    static func timeline(_ entries: [TimelineEntry], painter: Painter) -> String {
        let table = TextTable(
            headers: ["TIME", "FROM", "TO", "REASON", "NODE", "ATTEMPT", "SHARD"],
            rows: entries.map { [clock($0.atMs), $0.from.isEmpty ? "-" : $0.from, $0.to, $0.reason, $0.node ?? "-", String($0.attempt), $0.shard.isEmpty ? "-" : $0.shard] })
        return table.render { column, cell in column == 2 ? painter.state(cell) : cell }
    }

    /// One live change of one task, as `tasks watch ID` and `submit --wait` print it.
    static func transition(_ entry: TimelineEntry, painter: Painter) -> String {
        let to = entry.to.padding(toLength: 12, withPad: " ", startingAt: 0)
        var line = "\(clock(entry.atMs))  \(painter.state(to))  \(entry.reason)"
        if let node = entry.node { line += "  node=\(node)" }
        if entry.attempt > 0 { line += "  attempt=\(entry.attempt)" }
        return line
    }

    /// One live change of any of a tenant's tasks (`tasks watch` without an id).
    static func change(_ event: TaskEvent, painter: Painter) -> String {
        let steps = (event.via + [event.to]).map { painter.state($0) }.joined(separator: " → ")
        var line = "\(clock(event.atMs))  \(event.taskId)  \(steps)  \(event.reason)"
        if let node = event.node { line += "  node=\(node)" }
        return line
    }

    static func explanation(_ view: TaskExplanationView, painter: Painter) -> String {
        var lines = [
            "\(view.taskId)  \(painter.state(view.state))  (\(view.reason))", view.summary,
            "priority \(view.priority)" + (view.effectivePriority.map { " (effective \($0))" } ?? "") + ", attempt \(view.attempt), mode \(painter.state(view.mode)), source \(view.source)",
        ]
        if !view.reasonMessage.isEmpty, !view.summary.contains(view.reasonMessage) { lines.insert(view.reasonMessage, at: 2) }
        if let node = view.node { lines.append("node: \(node)") }
        if let next = view.nextTimerInMs { lines.append("next step in: \(age(next))") }
        if !view.blockers.isEmpty {
            lines.append("blocked by:")
            for blocker in view.blockers { lines.append("  - \(blocker.code): \(blocker.message)") }
        }
        if !view.budgets.isEmpty {
            lines.append("budgets:")
            lines.append(TextTable(headers: ["  BUDGET", "USED", "LIMIT"], rows: view.budgets.map { ["  \($0.name)", String($0.used), String($0.limit)] }).render())
        }
        if let last = view.lastTransition { lines.append("last change: \(transition(last, painter: painter))") }
        if let reconciliation = view.reconciliation {
            lines.append("reconciliation: \(reconciliation.kind) of desired state \(reconciliation.desired)"
                + (reconciliation.nodeState.map { ", node \($0.node) \(painter.state($0.state))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    static func commandLine(_ argv: [String], limit: Int) -> String {
        let text = argv.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }
}
