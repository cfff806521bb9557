import FluxAPI
import FluxAgent
import Foundation
import Testing

/// Real processes, bounded by short timeouts. Each test names the documented behaviour it pins.
@Suite struct TaskExecutorTests {
    let executor = TaskExecutor(node: "node-a", outputTailBytes: 64)

    func dispatch(_ command: [String], timeoutMs: Int = 10_000, env: [String: String] = [:], id: String = "t1") -> AgentMessage.Dispatch {
        AgentMessage.Dispatch(taskId: id, attempt: 2, command: command, env: env, timeoutMs: timeoutMs)
    }

    @Test func reportsTheCommandsExitCode() async {
        let result = await executor.run(dispatch(["sh", "-c", "echo hi; exit 7"]))
        #expect(result.finished.exitCode == 7)
        #expect(result.finished.outputTail == "hi\n")
        #expect(result.finished.timedOut == false)
        #expect(result.killedBy == nil)
        #expect(result.finished.taskId == "t1" && result.finished.attempt == 2)
    }

    @Test func keepsOnlyTheLastBytesOfLongOutput() async {
        let result = await executor.run(dispatch(["seq", "1", "100000"]))
        #expect(result.finished.exitCode == 0)
        #expect(result.finished.outputTail.utf8.count == 64)
        #expect(result.finished.outputTail.hasSuffix("99999\n100000\n"))
    }

    @Test func mergesStandardErrorIntoTheTail() async {
        let result = await executor.run(dispatch(["sh", "-c", "echo out; echo err >&2"]))
        #expect(result.finished.outputTail.contains("out\n"))
        #expect(result.finished.outputTail.contains("err\n"))
    }

    @Test func killsTheProcessGroupAtTheTimeout() async {
        let clock = ContinuousClock()
        let start = clock.now
        // The shell forks `sleep`; killing only the shell would leave sleep holding the pipe.
        let result = await executor.run(dispatch(["sh", "-c", "sleep 30; echo never"], timeoutMs: 300))
        // Far below the 30 s sleep: the group was killed, not waited for.
        #expect(clock.now - start < .seconds(15))
        #expect(result.finished.timedOut)
        #expect(result.finished.exitCode == AgentExitCode.timedOut)
        #expect(result.killedBy == .timedOut)
        #expect(result.finished.outputTail.contains("timeout of 300 ms"))
        #expect(result.finished.durationMs >= 300)
    }

    @Test func aDetachedChildHoldingTheOutputDoesNotHangTheAttempt() async {
        let clock = ContinuousClock()
        let start = clock.now
        // The grandchild escapes the process group and keeps the pipe open for 30 s; an attempt
        // that waited for it would take 30 s (the bound leaves room for a loaded machine).
        let result = await executor.run(dispatch(["sh", "-c", "setsid sleep 30 & echo parent done"]))
        #expect(clock.now - start < .seconds(15))
        #expect(result.finished.exitCode == 0)
        #expect(result.finished.outputTail.hasPrefix("parent done"))
    }

    @Test func cancelKillsARunningCommand() async throws {
        let killSwitch = KillSwitch()
        let started = Flag()
        let clock = ContinuousClock()
        let start = clock.now
        async let result = executor.run(dispatch(["sleep", "30"]), killSwitch: killSwitch) { started.set() }
        try await started.wait(upTo: .seconds(20))
        killSwitch.trip(.cancelled)
        let finished = await result
        #expect(clock.now - start < .seconds(15))
        #expect(finished.killedBy == .cancelled)
        #expect(finished.finished.exitCode == AgentExitCode.cancelled)
        #expect(finished.finished.timedOut == false)
        #expect(finished.finished.outputTail.hasSuffix(TaskExecutor.cancelMarker))
    }

    @Test func cancelBeforeStartRunsNothing() async {
        let killSwitch = KillSwitch()
        killSwitch.trip(.cancelled)
        let result = await executor.run(dispatch(["sh", "-c", "exit 0"]), killSwitch: killSwitch)
        #expect(result.finished.exitCode == AgentExitCode.cancelled)
        #expect(result.killedBy == .cancelled)
    }

    @Test func signalDeathIsReportedAs128PlusSignal() async {
        let result = await executor.run(dispatch(["sh", "-c", "kill -TERM $$"]))
        #expect(result.finished.exitCode == 128 + 15)
        #expect(result.killedBy == nil)
    }

    @Test func exportsTaskIdentityToTheCommand() async {
        let command = ["sh", "-c", "echo $FLUX_TASK_ID/$FLUX_ATTEMPT/$FLUX_NODE/$EXTRA"]
        let result = await executor.run(dispatch(command, env: ["EXTRA": "x", "FLUX_TASK_ID": "spoofed"], id: "task-9"))
        #expect(result.finished.outputTail == "task-9/2/node-a/x\n")
    }

    @Test func missingProgramIsExitCode127() async {
        let byName = await executor.run(dispatch(["fluxforge-no-such-program"]))
        #expect(byName.finished.exitCode == AgentExitCode.notFound)
        #expect(byName.finished.outputTail.contains("command not found: fluxforge-no-such-program"))
        #expect(byName.agentFault == false)
        let byPath = await executor.run(dispatch(["/nonexistent/bin/tool"]))
        #expect(byPath.finished.exitCode == AgentExitCode.notFound)
    }

    @Test func nonExecutableFileIsExitCode126() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flux-agent-noexec-\(UUID().uuidString)").path
        try "echo hi\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = await executor.run(dispatch([path]))
        #expect(result.finished.exitCode == AgentExitCode.cannotExecute, "\(result.finished.outputTail)")
        #expect(result.agentFault == false)
    }

    @Test func runsAttemptsConcurrently() async {
        let clock = ContinuousClock()
        let start = clock.now
        // Each command waits until all three have started (a barrier of marker files), so the
        // attempts can only finish if they run side by side; run one at a time, they time out.
        let barrier = FileManager.default.temporaryDirectory.appendingPathComponent("flux-barrier-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: barrier, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: barrier) }
        let script = "touch \(barrier)/$FLUX_TASK_ID; while [ $(ls \(barrier) | wc -l) -lt 3 ]; do sleep 0.05; done; exit"
        let codes = await withTaskGroup(of: Int.self, returning: [Int].self) { group in
            for index in 0..<3 {
                let attempt = dispatch(["sh", "-c", "\(script) \(index)"], timeoutMs: 20_000, id: "t\(index)")
                group.addTask { await executor.run(attempt).finished.exitCode }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(clock.now - start < .seconds(20))
        #expect(codes.sorted() == [0, 1, 2])
    }
}
