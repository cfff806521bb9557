/// A task as the API shows it: the record in `ff:{sN}:task:<id>`, typed.
public struct TaskView: Codable, Sendable, Hashable {
    public var id: String
    public var tenant: String
    public var state: String
    public var priority: Int
    public var cpuCost: Int
    public var command: [String]
    public var timeoutMs: Int
    public var node: String?
    public var selector: [String: String]
    public var attempt: Int
    /// Node the latest attempt ran on.
    public var assignedNode: String?
    /// Machine-readable reason of the latest transition (`admitted`, `cpu_budget`, …).
    public var reason: String?
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    public var deadlineAtMs: Int64?
    public var result: TaskResult?

    public init(
        id: String, tenant: String, state: String, priority: Int, cpuCost: Int, command: [String],
        timeoutMs: Int, node: String?, selector: [String: String], attempt: Int, assignedNode: String?,
        reason: String?, createdAtMs: Int64, updatedAtMs: Int64, deadlineAtMs: Int64?, result: TaskResult?
    ) {
        self.id = id
        self.tenant = tenant
        self.state = state
        self.priority = priority
        self.cpuCost = cpuCost
        self.command = command
        self.timeoutMs = timeoutMs
        self.node = node
        self.selector = selector
        self.attempt = attempt
        self.assignedNode = assignedNode
        self.reason = reason
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.deadlineAtMs = deadlineAtMs
        self.result = result
    }
}

/// What the last finished attempt produced.
public struct TaskResult: Codable, Sendable, Hashable {
    public var exitCode: Int
    public var outputTail: String
    public var durationMs: Int
    public init(exitCode: Int, outputTail: String, durationMs: Int) {
        self.exitCode = exitCode
        self.outputTail = outputTail
        self.durationMs = durationMs
    }
}

/// `202` answer to a submission: the id is durable in Redis when this is sent.
public struct SubmissionAccepted: Codable, Sendable, Hashable {
    public var id: String
    public var state: String
    public init(id: String, state: String) {
        self.id = id
        self.state = state
    }
}

/// One page of `GET …/tasks`; pass `nextCursor` back as `cursor` for the next page.
public struct TaskPage: Codable, Sendable, Hashable {
    public var tasks: [TaskView]
    public var nextCursor: String?
    public init(tasks: [TaskView], nextCursor: String?) {
        self.tasks = tasks
        self.nextCursor = nextCursor
    }
}

/// One timeline entry: a state transition with everything needed to reconstruct why.
public struct TimelineEntry: Codable, Sendable, Hashable {
    public var id: String
    public var atMs: Int64
    public var from: String
    public var to: String
    public var reason: String
    public var shard: String
    public var epoch: Int64
    public var node: String?
    public var attempt: Int
    public init(id: String, atMs: Int64, from: String, to: String, reason: String, shard: String, epoch: Int64, node: String?, attempt: Int) {
        self.id = id
        self.atMs = atMs
        self.from = from
        self.to = to
        self.reason = reason
        self.shard = shard
        self.epoch = epoch
        self.node = node
        self.attempt = attempt
    }
}

/// One state change of one of a tenant's tasks, as `GET /v1/tenants/{t}/events` streams it: a
/// watcher of many tasks needs the task's id with each change, and the steps a change passed
/// through in one scheduler turn (`via`, e.g. RUNNING on the way to SUCCEEDED).
public struct TaskEvent: Codable, Sendable, Hashable {
    /// The event's id (an entry of the slot's event stream): what `Last-Event-ID` resumes after.
    public var id: String
    public var taskId: String
    public var atMs: Int64
    public var from: String
    public var to: String
    public var via: [String]
    public var reason: String
    public var node: String?
    public var attempt: Int

    public init(id: String, taskId: String, atMs: Int64, from: String, to: String, via: [String], reason: String, node: String?, attempt: Int) {
        self.id = id
        self.taskId = taskId
        self.atMs = atMs
        self.from = from
        self.to = to
        self.via = via
        self.reason = reason
        self.node = node
        self.attempt = attempt
    }
}
