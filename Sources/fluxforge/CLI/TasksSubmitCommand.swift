import ArgumentParser
import Crypto
import FluxAPI
import FluxClient
import FluxRuntime
import Foundation

/// `fluxforge tasks submit`: one task from its argv (optionally waiting for it, with the task's
/// exit code as the CLI's), or a JSON Lines file of tasks in batches with a progress line.
struct TasksSubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a task (`-- argv…`) or a file of tasks (`--file tasks.jsonl`).",
        discussion: """
        With --wait the task's changes are printed on stderr as they happen, its output tail on
        stdout, and the exit status is the task's: its exit code when it ran, 124 when its deadline
        or timeout ended it, 125 when it was refused, shed, cancelled or expired.
        """)

    @OptionGroup var client: ClientOptions
    @Option(help: "Priority 0 (highest) … 10.") var priority: Int?
    @Option(help: "CPU cost units the task takes from the tenant's budget.") var cpuCost: Int?
    @Option(help: "Milliseconds an attempt may run.") var timeoutMs: Int?
    @Option(help: "Milliseconds from now after which the task is not started any more.") var deadlineAfterMs: Int?
    @Option(help: "Run only on this node.") var node: String?
    @Option(parsing: .singleValue, help: "Run only on nodes with this label (key=value; repeatable).") var selector: [String] = []
    @Option(parsing: .singleValue, help: "Environment variable for the command (KEY=VALUE; repeatable).") var env: [String] = []
    @Option(help: "Attempts in all (1 = never retry).") var maxAttempts: Int?
    @Option(help: "Idempotency key: the same key and body within 24 h is the same task.") var idempotencyKey: String?
    @Flag(help: "Wait for the task to end, print its changes live, exit with its exit code.") var wait = false
    @Option(help: "A JSON Lines file of submissions (one `POST …/tasks` body per line).") var file: String?
    @Option(help: "Tasks per batch with --file (1…1000).") var batchSize: Int = 500
    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).") var command: [String] = []

    func validate() throws {
        if file != nil {
            guard command.isEmpty else { throw ValidationError("give either --file or a command after --, not both") }
            guard !wait else { throw ValidationError("--wait takes one task, not --file") }
            guard (1...TaskLimits.maxBatchSize).contains(batchSize) else { throw ValidationError("--batch-size must be within 1…\(TaskLimits.maxBatchSize)") }
        } else if command.isEmpty {
            throw ValidationError("give the command after --, e.g. `fluxforge tasks submit -- echo hello`, or --file")
        }
    }

    func run() async throws {
        if let file {
            try await BatchSubmission(client: client, file: file, batchSize: batchSize).run()
            return
        }
        let submission = try self.submission()
        let status: Int32 = try await client.withSession { session in
            var headers: [String: String] = [:]
            if let idempotencyKey { headers["X-Flux-Idempotency-Key"] = idempotencyKey }
            let answer = try await session.api.call(.POST, try session.tenantPath("/tasks"), body: try JSONEncoder().encode(submission), headers: headers)
            let accepted = try JSONDecoder().decode(SubmissionAccepted.self, from: answer.body)
            guard wait else {
                try session.show(accepted) { $0.id }
                return 0
            }
            FileHandle.standardError.write(Data("task \(accepted.id)\n".utf8))
            let state = try await TaskWatcher(session: session, toStandardError: true).follow(accepted.id)
            let task = try? await session.api.decode(TaskView.self, .GET, try session.tenantPath("/tasks/\(accepted.id)"))
            if session.output == .json, let task {
                try session.printJSON(task)
            } else if let tail = task?.result?.outputTail, !tail.isEmpty {
                print(tail, terminator: tail.hasSuffix("\n") ? "" : "\n")
            }
            return Self.exitStatus(state: state, exitCode: task?.result?.exitCode)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The CLI's exit status for a task that ended in `state` (docs/cli.md).
    static func exitStatus(state: String, exitCode: Int?) -> Int32 {
        switch state {
        case "SUCCEEDED", "VERIFIED": return 0
        case "FAILED":
            guard let exitCode, (1...255).contains(exitCode) else { return 1 }
            return Int32(exitCode)
        case "DEADLINE_EXCEEDED": return 124
        default: return 125
        }
    }

    private func submission() throws -> TaskSubmission {
        var task = TaskSubmission(command: command)
        if let priority { task.priority = priority }
        if let cpuCost { task.cpuCost = cpuCost }
        if let timeoutMs { task.timeoutMs = timeoutMs }
        task.deadlineAfterMs = deadlineAfterMs
        task.node = node
        task.selector = try Self.pairs(selector, flag: "--selector")
        task.env = try Self.pairs(env, flag: "--env")
        if let maxAttempts { task.retry = RetrySpec(maxAttempts: maxAttempts) }
        do { try task.validate() } catch { throw ValidationError("\(error.message)" + (error.field.map { " (field \($0))" } ?? "")) }
        return task
    }

    static func pairs(_ items: [String], flag: String) throws -> [String: String] {
        var pairs: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { throw ValidationError("\(flag) takes key=value, got \(item)") }
            pairs[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return pairs
    }
}

/// `submit --file`: batches of the file's tasks, each under an idempotency key derived from the
/// file's content and the batch's place in it, so running the same command again after an
/// interruption submits what is missing and nothing twice. A 429 or 503 is waited out
/// (`Retry-After`) and the same batch sent again.
struct BatchSubmission {
    let client: ClientOptions
    let file: String
    let batchSize: Int
    static let maxTries = 20

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { CLISession.fail(ClientConfigError("cannot read \(file): \(error.localizedDescription)")) }
        let tasks: [TaskSubmission]
        do { tasks = try TaskFile.parse(String(decoding: data, as: UTF8.self)) } catch { CLISession.fail(ClientConfigError("\(file): \(error)")) }
        let fileKey = "file-" + SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()
        let showProgress = isatty(STDERR_FILENO) == 1
        try await client.withSession { session in
            let started = ContinuousClock.now
            var accepted: [SubmissionAccepted] = []
            for (index, start) in stride(from: 0, to: tasks.count, by: batchSize).enumerated() {
                let batch = TaskBatch(tasks: Array(tasks[start..<min(start + batchSize, tasks.count)]))
                accepted += try await send(batch, key: "\(fileKey)-\(batchSize)-\(index)", session: session, done: accepted.count, total: tasks.count)
                if showProgress {
                    let progress = Progress(total: tasks.count, done: accepted.count, elapsedSeconds: (ContinuousClock.now - started).seconds)
                    FileHandle.standardError.write(Data("\r\(progress.line)".utf8))
                }
            }
            let seconds = (ContinuousClock.now - started).seconds
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            let rate = Progress(total: tasks.count, done: accepted.count, elapsedSeconds: seconds).ratePerSecond
            switch session.output {
            case .json: try session.printJSON(TaskBatchAccepted(tasks: accepted))
            case .table:
                print("submitted \(Progress.grouped(accepted.count)) tasks in \(String(format: "%.1f", seconds)) s (\(Progress.grouped(Int(rate)))/s)")
            }
        }
    }

    private func send(_ batch: TaskBatch, key: String, session: CLISession, done: Int, total: Int) async throws -> [SubmissionAccepted] {
        let body = try JSONEncoder().encode(batch)
        var tries = 0
        while true {
            tries += 1
            do {
                let answer = try await session.api.call(.POST, try session.tenantPath("/tasks:batch"), body: body, headers: ["X-Flux-Idempotency-Key": key])
                return try JSONDecoder().decode(TaskBatchAccepted.self, from: answer.body).tasks
            } catch let error as APIError where (error.status == 429 || error.status == 503) && tries < Self.maxTries {
                try await Task.sleep(for: .seconds(max(1, error.retryAfter ?? 1)))
            } catch {
                FileHandle.standardError.write(Data(
                    "\nstopped after \(done) of \(total) tasks; run the same command again to submit the rest (nothing is submitted twice)\n".utf8))
                throw error
            }
        }
    }
}
