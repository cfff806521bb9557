import FluxAPI
import Logging

extension Agent {
    /// Runs every started attempt in its own child task; returns once the work stream is finished
    /// (at shutdown) and every attempt has ended. Capacity is enforced by the state machine,
    /// which never starts more than `capacity` attempts at once.
    func runTasks() async {
        await withDiscardingTaskGroup { group in
            for await dispatch in work {
                group.addTask { await self.execute(dispatch) }
            }
        }
    }

    private func execute(_ dispatch: AgentMessage.Dispatch) async {
        let attempt = AgentMessage.TaskAttempt(taskId: dispatch.taskId, attempt: dispatch.attempt)
        var logger = self.logger
        logger[metadataKey: "task"] = .string(dispatch.taskId)
        logger[metadataKey: "attempt"] = .stringConvertible(dispatch.attempt)
        logger.info("task start", metadata: ["command": .string(dispatch.command.joined(separator: " "))])
        let result = await executor.run(dispatch, killSwitch: core.killSwitch(for: attempt)) {
            self.core.handle { $0.taskStarted(attempt) }
        }
        logger.info("task finish", metadata: [
            "exitCode": .stringConvertible(result.finished.exitCode),
            "durationMs": .stringConvertible(result.finished.durationMs),
            "killedBy": .string(result.killedBy.map { "\($0)" } ?? "-"),
        ])
        core.finished(result)
    }
}
