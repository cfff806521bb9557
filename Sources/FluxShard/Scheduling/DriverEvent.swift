import FluxAPI

/// Something the scheduler driver must handle, queued from any task (routes, sessions, loops)
/// and processed in order by the driver's single loop.
enum DriverEvent: Sendable {
    /// A batch read from the ingest streams; `done` resumes once the outcomes are durable.
    case ingested([IngestedTask], done: CheckedContinuation<Bool, Never>)
    case nodeConnected(AgentMessage.Hello)
    case nodeDisconnected(NodeKey)
    case agentMessage(AgentMessage, from: NodeKey)
    case pingSent(NodeKey, nonce: Int, atMs: Int64)
    case tenantChanged(String, TenantSettings)
    case taskRequest(TaskChange, tenant: String, taskID: String, done: CheckedContinuation<Result<Void, TaskChangeError>, Never>)
    case slotsAcquired([Int])
    case slotsLost([Int])
    case nodesQuery(tenant: String, done: CheckedContinuation<[NodeView], Never>)
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
