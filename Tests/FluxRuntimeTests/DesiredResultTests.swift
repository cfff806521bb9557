import FluxCore
import Testing
@testable import FluxRuntime

/// How a task record's state is read as the answer of a check or an apply.
@Suite struct DesiredResultTests {
    @Test func onlyACommandThatRanAndExitedAnswers() {
        #expect(DesiredStore.result(["acme", "SUCCEEDED", "0", "succeeded"]) == .exited(0))
        #expect(DesiredStore.result(["acme", "FAILED", "1", "non_zero_exit"]) == .exited(1))
        // The agent reports 124 for a command it timed out: an error of the attempt, not drift.
        #expect(DesiredStore.result(["acme", "FAILED", "124", "timeout"]) == .errored("timeout"))
        #expect(DesiredStore.result(["acme", "FAILED", nil, "node_lost"]) == .errored("node_lost"))
        #expect(DesiredStore.result(["acme", "REJECTED", nil, "cpu_budget"]) == .errored("cpu_budget"))
        #expect(DesiredStore.result(["acme", "RUNNING", nil, "started"]) == .pending)
        #expect(DesiredStore.result(["acme", "QUEUED", nil, "submitted"]) == .pending)
        #expect(DesiredStore.result(nil) == .errored("task_missing"))
    }

    @Test func taskNamesAreStableAndDistinct() {
        let work = ReconcileWork(node: "edge-1", kind: .apply, generation: 2, sequence: 3)
        let id = DesiredStore.taskID(uid: "abcd1234", work: work)
        #expect(id == DesiredStore.taskID(uid: "abcd1234", work: work))
        #expect(TaskIDs.isWellFormed(id))
        #expect(id != DesiredStore.taskID(uid: "abcd1235", work: work))
        #expect(id != DesiredStore.taskID(uid: "abcd1234", work: ReconcileWork(node: "edge-1", kind: .check, generation: 2, sequence: 3)))
        #expect(DesiredStore.idempotencyKey(uid: "abcd1234", work: work) == "desired-abcd1234/g2/edge-1/drift-3")
    }
}
