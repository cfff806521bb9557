/// The body of `POST …/tasks:batch`: up to `TaskLimits.maxBatchSize` submissions, all validated
/// before any is written, so a batch with one bad task writes nothing.
public struct TaskBatch: Codable, Sendable, Hashable {
    public var tasks: [TaskSubmission]

    enum CodingKeys: String, CodingKey, CaseIterable { case tasks }

    public init(tasks: [TaskSubmission]) { self.tasks = tasks }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        tasks = try decoder.container(keyedBy: CodingKeys.self).decode([TaskSubmission].self, forKey: .tasks)
    }

    /// Validates the size and every task, naming the first bad field as `tasks[i].field`.
    public func validate() throws(APIProblem) {
        guard !tasks.isEmpty, tasks.count <= TaskLimits.maxBatchSize else {
            throw .invalid("tasks", "must hold 1…\(TaskLimits.maxBatchSize) tasks")
        }
        for (index, task) in tasks.enumerated() {
            do {
                try task.validate()
            } catch {
                let field = "tasks[\(index)]." + (error.field ?? "")
                throw APIProblem(code: error.code, message: "tasks[\(index)]: \(error.message)", field: field)
            }
        }
    }
}

/// `202` answer to a batch: ids in submission order.
public struct TaskBatchAccepted: Codable, Sendable, Hashable {
    public var tasks: [SubmissionAccepted]
    public init(tasks: [SubmissionAccepted]) { self.tasks = tasks }
}

/// `GET …/tasks/{id}/timeline`.
public struct TimelinePage: Codable, Sendable, Hashable {
    public var taskId: String
    public var entries: [TimelineEntry]
    public init(taskId: String, entries: [TimelineEntry]) {
        self.taskId = taskId
        self.entries = entries
    }
}

/// `GET /v1/tenants/{tenant}/nodes`.
public struct NodeList: Codable, Sendable, Hashable {
    public var nodes: [NodeView]
    public init(nodes: [NodeView]) { self.nodes = nodes }
}

/// One node as the control plane sees it: placement facts and each health component.
public struct NodeView: Codable, Sendable, Hashable {
    public var node: String
    public var zone: String
    public var rack: String
    public var labels: [String: String]
    public var capacity: Int
    public var running: Int
    public var connected: Bool
    public var agentReport: Double
    public var observedFailureRate: Double
    public var externalProbe: Double
    public var score: Double
    public var quarantined: Bool
    public var selfReportIgnored: Bool

    public init(
        node: String, zone: String, rack: String, labels: [String: String], capacity: Int, running: Int,
        connected: Bool, agentReport: Double, observedFailureRate: Double, externalProbe: Double, score: Double,
        quarantined: Bool, selfReportIgnored: Bool
    ) {
        self.node = node
        self.zone = zone
        self.rack = rack
        self.labels = labels
        self.capacity = capacity
        self.running = running
        self.connected = connected
        self.agentReport = agentReport
        self.observedFailureRate = observedFailureRate
        self.externalProbe = externalProbe
        self.score = score
        self.quarantined = quarantined
        self.selfReportIgnored = selfReportIgnored
    }
}

/// Task states as they appear on the wire (docs/scheduler-design.md).
public enum TaskStates {
    public static let all: Set<String> = [
        "QUEUED", "ADMITTED", "DISPATCHED", "RUNNING", "SUCCEEDED", "FAILED", "REJECTED", "DEFERRED",
        "RETRY_WAIT", "SHED", "SUSPENDED", "CANCELLED", "DEADLINE_EXCEEDED", "VERIFYING", "VERIFIED",
    ]
}
