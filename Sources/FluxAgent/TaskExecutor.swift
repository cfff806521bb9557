public import FluxAPI
import Subprocess
import SystemPackage

/// Runs one dispatched argv (never through a shell) and turns whatever happens into a `finished`
/// frame: an exit code, the last bytes of merged stdout+stderr, the duration, and whether the
/// agent killed it. Stateless: concurrency and capacity are the caller's business.
///
/// Each command runs in its own process group, so a timeout or cancel (SIGKILL to the group) also
/// ends the children it forked. Children that start their own session escape; the agent stops
/// waiting for their output once the command itself has exited.
public struct TaskExecutor: Sendable {
    /// Node name exported to commands as `FLUX_NODE`.
    public let node: String
    /// Bytes of output kept per attempt.
    public let outputTailBytes: Int

    /// An executor for one node; `outputTailBytes` ≥ 0.
    public init(node: String, outputTailBytes: Int = 4096) {
        precondition(outputTailBytes >= 0, "outputTailBytes must not be negative")
        self.node = node
        self.outputTailBytes = outputTailBytes
    }

    /// Runs the attempt to its end; never throws: every failure becomes a `finished`.
    /// `onStarted` is called once the process exists (not for a program that cannot be spawned).
    public func run(
        _ dispatch: AgentMessage.Dispatch, killSwitch: KillSwitch = KillSwitch(),
        onStarted: @Sendable () -> Void = {}
    ) async -> TaskResult {
        let clock = ContinuousClock()
        let start = clock.now
        guard let program = dispatch.command.first, !program.isEmpty else {
            return notStarted(dispatch, exitCode: AgentExitCode.notFound, message: "[fluxforge-agent] empty command\n")
        }
        if let reason = killSwitch.reason { return killedBeforeStart(dispatch, reason: reason) }
        do {
            let (status, tail) = try await execute(dispatch, killSwitch: killSwitch, onStarted: onStarted)
            return outcome(dispatch, status: status, tail: tail, killSwitch: killSwitch, elapsed: clock.now - start)
        } catch {
            return spawnFailure(dispatch, error: error, elapsed: clock.now - start)
        }
    }

    private func execute(
        _ dispatch: AgentMessage.Dispatch, killSwitch: KillSwitch, onStarted: @Sendable () -> Void
    ) async throws -> (TerminationStatus, OutputTail) {
        let timeout = Duration.milliseconds(dispatch.timeoutMs)
        let limit = outputTailBytes
        let environment = Self.environment(for: dispatch, node: node)
        let result = try await Subprocess.run(
            // Resolved in the agent's fixed PATH, like the allow-list check: a dispatch's own PATH
            // (if overrides are allowed) reaches the command's children, never the choice of program.
            Self.executable(dispatch.command[0], searchPath: ProgramResolver.defaultSearchPath),
            arguments: Arguments(Array(dispatch.command.dropFirst())),
            environment: .custom(Dictionary(uniqueKeysWithValues: environment.compactMap { name, value in
                Environment.Key(rawValue: name).map { ($0, value) }
            })),
            platformOptions: Self.platformOptions,
            input: .none, output: .sequence, error: .combinedWithOutput
        ) { execution in
            onStarted()
            return try await Self.collect(execution, limit: limit, timeout: timeout, killSwitch: killSwitch)
        }
        return (result.terminationStatus, result.closureResult)
    }

    /// Reads output into a bounded tail while a watchdog kills the process group on timeout or
    /// on a tripped kill switch. Returns when the output ends (the command exited).
    private static func collect(
        _ execution: Execution<NoInput, SequenceOutput, CombinedErrorOutput>,
        limit: Int, timeout: Duration, killSwitch: KillSwitch
    ) async throws -> OutputTail {
        try await withThrowingTaskGroup(of: Void.self, returning: OutputTail.self) { group in
            group.addTask {
                guard await Self.killReason(killSwitch, timeout: timeout) != nil else { return }
                try? execution.send(signal: .kill, toProcessGroup: true)
                try? execution.send(signal: .kill)
            }
            var tail = OutputTail(limit: limit)
            for try await chunk in execution.standardOutput {
                chunk.withUnsafeBytes { tail.append($0) }
            }
            group.cancelAll()
            return tail
        }
    }

    /// Waits for whichever comes first: the timeout (which trips the switch) or a trip from
    /// outside. Returns nil when cancelled because the command ended by itself.
    private static func killReason(_ killSwitch: KillSwitch, timeout: Duration) async -> KillSwitch.Reason? {
        await withTaskGroup(of: KillSwitch.Reason?.self) { group in
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                killSwitch.trip(.timedOut)
                return killSwitch.reason
            }
            group.addTask { await killSwitch.wait() }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// A task starts from a clean environment: the agent's fixed `PATH`, the dispatch's variables
    /// (a `PATH` among them only if the agent allowed overrides), then the agent's own `FLUX_*`
    /// variables, which a dispatch cannot override. Nothing of the agent's own environment (its
    /// token, its service account, its shell) reaches a command.
    static func environment(for dispatch: AgentMessage.Dispatch, node: String) -> [String: String] {
        var variables = ["PATH": ProgramResolver.defaultSearchPath]
        variables.merge(dispatch.env) { _, dispatched in dispatched }
        variables["FLUX_TASK_ID"] = dispatch.taskId
        variables["FLUX_ATTEMPT"] = String(dispatch.attempt)
        variables["FLUX_NODE"] = node
        return variables
    }

    /// A bare name is looked up by the agent in `searchPath`; anything with a slash is a path,
    /// used as is.
    static func executable(_ program: String, searchPath: String) -> Executable {
        if program.contains("/") { return .path(FilePath(program)) }
        return ProgramResolver.resolve(program, searchPath: searchPath).map { .path(FilePath($0)) } ?? .name(program)
    }

    static var platformOptions: PlatformOptions {
        var options = PlatformOptions()
        options.processGroupID = 0  // a new group led by the child: one kill reaches its children
        return options
    }
}
