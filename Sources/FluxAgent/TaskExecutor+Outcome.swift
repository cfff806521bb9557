import FluxAPI
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TaskExecutor {
    /// Appended to the output tail of an attempt the agent killed at its timeout.
    public static func timeoutMarker(_ timeoutMs: Int) -> String {
        "\n[fluxforge-agent] killed: timeout of \(timeoutMs) ms exceeded\n"
    }

    /// Appended to the output tail of an attempt the agent killed on `cancel`.
    public static let cancelMarker = "\n[fluxforge-agent] killed: cancelled by the server\n"

    /// Appended to the output tail of an attempt still running when the shutdown grace ran out.
    public static let shutdownMarker = "\n[fluxforge-agent] killed: agent shutting down\n"

    /// The marker line and exit code of an attempt the agent killed for `reason`.
    static func killReport(_ reason: KillSwitch.Reason, timeoutMs: Int) -> (marker: String, exitCode: Int) {
        switch reason {
        case .timedOut: (timeoutMarker(timeoutMs), AgentExitCode.timedOut)
        case .cancelled: (cancelMarker, AgentExitCode.cancelled)
        case .agentShutdown: (shutdownMarker, AgentExitCode.cancelled)
        }
    }

    /// Maps how the process ended to the reported exit code. A kill by the agent counts only if
    /// the process really died of SIGKILL: one that exited by itself first reports its own code.
    func outcome(
        _ dispatch: AgentMessage.Dispatch, status: TerminationStatus, tail: OutputTail,
        killSwitch: KillSwitch, elapsed: Duration
    ) -> TaskResult {
        var tail = tail
        var exitCode: Int
        switch status {
        case .exited(let code): exitCode = Int(code)
        case .signaled(let signal): exitCode = AgentExitCode.signalBase + Int(signal)
        }
        let killedBy = status == .signaled(SIGKILL) ? killSwitch.reason : nil
        if let killedBy {
            let report = Self.killReport(killedBy, timeoutMs: dispatch.timeoutMs)
            exitCode = report.exitCode
            tail.append(report.marker)
        }
        let finished = AgentMessage.Finished(
            taskId: dispatch.taskId, attempt: dispatch.attempt, exitCode: exitCode,
            outputTail: tail.text, durationMs: Self.milliseconds(elapsed), timedOut: killedBy == .timedOut)
        return TaskResult(finished: finished, killedBy: killedBy)
    }

    /// A command that never started: 127 when the program does not exist, 126 when it exists but
    /// cannot be executed. Anything else (no pipes, fork failed) is also 126 and the agent's fault.
    func spawnFailure(_ dispatch: AgentMessage.Dispatch, error: any Error, elapsed: Duration) -> TaskResult {
        let (code, message, agentFault) = Self.classify(error, program: dispatch.command[0])
        return notStarted(dispatch, exitCode: code, message: message, agentFault: agentFault, elapsed: elapsed)
    }

    /// The `finished` of an attempt whose process never existed.
    func notStarted(
        _ dispatch: AgentMessage.Dispatch, exitCode: Int, message: String, agentFault: Bool = false,
        elapsed: Duration = .zero
    ) -> TaskResult {
        var tail = OutputTail(limit: outputTailBytes)
        tail.append(message)
        let finished = AgentMessage.Finished(
            taskId: dispatch.taskId, attempt: dispatch.attempt, exitCode: exitCode,
            outputTail: tail.text, durationMs: Self.milliseconds(elapsed))
        return TaskResult(finished: finished, agentFault: agentFault)
    }

    static func classify(_ error: any Error, program: String) -> (Int, String, Bool) {
        guard let error = error as? SubprocessError else {
            return (AgentExitCode.cannotExecute, "[fluxforge-agent] cannot run \(program): \(error)\n", true)
        }
        if error.code == .executableNotFound || error.underlyingError == .noSuchFileOrDirectory {
            // Subprocess folds "exists but not executable" into not-found; a path that exists
            // is the shell's 126, not 127.
            guard program.contains("/"), access(program, F_OK) == 0 else {
                return (AgentExitCode.notFound, "[fluxforge-agent] command not found: \(program)\n", false)
            }
            return (AgentExitCode.cannotExecute, "[fluxforge-agent] cannot execute \(program): not an executable file\n", false)
        }
        let commandsFault: Set<Errno> = [.permissionDenied, .execFormatError, .isDirectory, .notDirectory]
        let agentFault = !(error.underlyingError.map(commandsFault.contains) ?? false)
        return (AgentExitCode.cannotExecute, "[fluxforge-agent] cannot execute \(program): \(error)\n", agentFault)
    }

    /// A kill that landed before the process was spawned: nothing ran.
    func killedBeforeStart(_ dispatch: AgentMessage.Dispatch, reason: KillSwitch.Reason) -> TaskResult {
        let report = Self.killReport(reason, timeoutMs: dispatch.timeoutMs)
        var tail = OutputTail(limit: outputTailBytes)
        tail.append(report.marker)
        let finished = AgentMessage.Finished(
            taskId: dispatch.taskId, attempt: dispatch.attempt, exitCode: report.exitCode,
            outputTail: tail.text, durationMs: 0, timedOut: reason == .timedOut)
        return TaskResult(finished: finished, killedBy: reason)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
