import FluxAPI
import FluxCore

/// Something the scheduler driver must handle, queued from any task (routes, sessions, loops)
/// and processed in order by the driver's single loop.
enum DriverEvent: Sendable {
    /// A batch read from the ingest streams; `done` resumes once the outcomes are durable.
    case ingested([IngestedTask], done: CheckedContinuation<Bool, Never>)
    case nodeConnected(AgentMessage.Hello)
    case nodeDisconnected(NodeKey)
    case agentMessage(AgentMessage, from: NodeKey)
    /// One ping round: every listed session was just sent `ping(nonce)`.
    case pingsSent([NodeKey], nonce: Int, atMs: Int64)
    case tenantChanged(String, TenantSettings)
    /// The tenant was deleted (its keys are being removed): the core forgets it and its nodes.
    case tenantDeleted(String)
    case taskRequest(TaskChange, tenant: String, taskID: String, done: CheckedContinuation<Result<Void, TaskChangeError>, Never>)
    case slotsAcquired([Int])
    case slotsLost([Int])
    case nodesQuery(tenant: String, done: CheckedContinuation<[NodeView], Never>)
    /// `GET …/explain`: nil when the core does not hold the task.
    case explainQuery(ExplainQuery, done: CheckedContinuation<TaskExplanationView?, Never>)
    /// `GET /scheduler/debug/snapshot`: nil when the loop cannot answer (Redis down).
    case snapshotQuery(done: CheckedContinuation<SchedulerSnapshotView?, Never>)
    /// `PUT /v1/admin/scheduler/mode`: nil when the loop cannot answer (Redis down).
    case modeOverride(SchedulerMode?, done: CheckedContinuation<SchedulerModeView?, Never>)
    /// `/metrics` is being scraped: refresh the state gauges first.
    case metricsRefresh(done: CheckedContinuation<Void, Never>)
}

/// What `explain` needs besides the core's view: the task's placement target from its record.
struct ExplainQuery: Sendable {
    var tenant: String
    var taskID: String
    var node: String?
    var selector: [String: String]
}

/// A tenant's request to change one of its tasks.
enum TaskChange: Sendable {
    case cancel
    case resume
}

/// Why a cancel or resume was refused (mapped to 409 by the routes).
struct TaskChangeError: Error, Sendable {
    var code: String
    var message: String
}

extension DriverEvent {
    /// Slot acquisitions and losses are handled before the other events of a turn.
    var isSlotChange: Bool {
        switch self {
        case .slotsAcquired, .slotsLost: true
        default: false
        }
    }
}
