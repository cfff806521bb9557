public import FluxAPI
public import FluxRedis
public import Hummingbird

/// The write half of `POST /v1/tenants/{tenant}/tasks` and `…/tasks:batch`, after the caller has
/// authenticated the tenant: decode, validate, write with the submit script, answer.
///
/// The shard serves it for the slots it owns; the router serves the very same code when a slot
/// has no live owner, which is what makes a failover cost no failed submission (the write is only
/// Redis: the next owner admits what queued in the ingest stream meanwhile).
public struct SubmissionEndpoint: Sendable {
    public let tasks: TaskStore
    /// Checks router-chosen task ids.
    public let signer: TaskIDSigner
    /// Told about every Redis failure (the shard's driver goes READ_ONLY on them).
    private let redisFailed: @Sendable (RedisError) -> Void
    /// Told about every submission refused at the door, by tenant and code (metrics).
    private let refused: @Sendable (_ tenant: String, _ code: String) -> Void
    /// The owner's door for a validated submission, given its least urgent class (the highest
    /// `priority` of a batch): the refusal, or nil to write it. DEGRADED refuses P4–P10 of the
    /// tenants its overload is made of (`degradedRefusal`).
    private let door: DoorCheck
    /// Each tenant's turn at writing (`TenantWriteGate`): one tenant's flood cannot queue
    /// thousands of scripts in Redis ahead of another's submission.
    private let writeGate: TenantWriteGate

    /// What the slot owner's door says to a tenant's submission whose least urgent class is given.
    public typealias DoorCheck = @Sendable (_ tenant: String, _ leastUrgentClass: Int) -> HTTPProblem?

    public init(
        tasks: TaskStore, signer: TaskIDSigner, redisFailed: @escaping @Sendable (RedisError) -> Void = { _ in },
        refused: @escaping @Sendable (_ tenant: String, _ code: String) -> Void = { _, _ in },
        door: @escaping DoorCheck = { _, _ in nil },
        writeGate: TenantWriteGate = TenantWriteGate(tasksInFlight: 0)
    ) {
        self.writeGate = writeGate
        self.tasks = tasks
        self.signer = signer
        self.refused = refused
        self.redisFailed = redisFailed
        self.door = door
    }

    /// `429 degraded`: the slot's owner is DEGRADED and the tenant puts at least its share of
    /// the load on it (outstanding tasks plus recent arrivals), so its classes above `maxClass`
    /// are refused until the shard recovers. The same answer from the shard's door and from a
    /// router writing for it.
    public static func degradedRefusal(tenant: String, maxClass: Int) -> HTTPProblem {
        // Retry after a second: the mode is looked at every 500 ms and recovers with
        // hysteresis, so sooner would only be refused again.
        HTTPProblem.tooManyRequests(
            "degraded",
            "the shard serving tenant \(tenant) is DEGRADED by overload and the tenant puts at least its share of the load on it: "
                + "classes P\(maxClass + 1)–P10 are refused until it recovers, P0–P\(maxClass) are accepted; nothing was written",
            retryAfterMs: 1_000)
    }

    private func throwIfDoorRefuses(tenant: String, leastUrgentClass: Int) throws {
        guard let refusal = door(tenant, leastUrgentClass) else { return }
        refused(tenant, refusal.problem.code)
        throw refusal
    }

    /// One submission. 202 with the id when written (or already written under the same
    /// `X-Flux-Task-Id`), 200 with the task on an idempotent replay, 409 on a conflict.
    ///
    /// `routerName` is the id the router chose when it writes the submission itself (its own
    /// name needs no signature to prove it); otherwise a router-signed `X-Flux-Task-Id`, if any.
    public func submit(_ request: Request, tenant: String, nowMs: Int64, routerName: String? = nil) async throws -> Response {
        let key = try SubmissionHeaders.idempotencyKey(request)
        var taskID = routerName
        if taskID == nil { taskID = try await redisCall { try await SubmissionHeaders.taskID(request, tenant: tenant, signer: signer) } }
        let submission = try await JSONBody.decode(TaskSubmission.self, from: request, limit: TaskLimits.maxBodyBytes)
        do { try submission.validate() } catch { throw HTTPProblem(badRequest: error) }
        try throwIfDoorRefuses(tenant: tenant, leastUrgentClass: submission.priority)
        let outcome = try await inTurn(tenant: tenant, tasks: 1) {
            try await redisCall(tenant: tenant) {
                try await tasks.submit(tenant: tenant, submission: submission, idempotencyKey: key, taskID: taskID, nowMs: nowMs)
            }
        }
        switch outcome {
        case .created(let id), .existing(let id):
            // A repeated try of the same submission (same chosen id) answers like the first.
            return try JSONBody.response(SubmissionAccepted(id: id, state: "QUEUED"), status: .accepted)
        case .replay(let id):
            guard let view = try await redisCall({ try await tasks.task(tenant: tenant, id: id) }) else {
                throw HTTPProblem.notFound("task \(id)")
            }
            var headers = HTTPFields()
            headers[SubmissionHeaders.replay] = "true"
            return try JSONBody.response(view, status: .ok, headers: headers)
        case .conflict(let id) where key == nil:
            throw HTTPProblem.conflict("id_conflict", "task id \(id) was already used for a different submission")
        case .conflict(let id):
            throw HTTPProblem.conflict("idempotency_conflict", "idempotency key was used for task \(id) with a different body")
        }
    }

    /// Up to `TaskLimits.maxBatchSize` submissions in one pipelined round trip; 202 with every
    /// item's id in order. A batch named by the router (`X-Flux-Batch-Id`) or by the client
    /// (`X-Flux-Idempotency-Key`, item `i` keyed `<key>#<i>`) can be sent again safely: items
    /// already written are found, not written twice, and answer with the same ids.
    /// `routerName`: as for `submit`, the batch's name when the router writes it itself.
    public func submitBatch(_ request: Request, tenant: String, nowMs: Int64, routerName: String? = nil) async throws -> Response {
        let key = try SubmissionHeaders.idempotencyKey(request)
        if let key, key.utf8.count > TaskLimits.maxIdempotencyKeyBytes - 8 {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Idempotency-Key", "at most \(TaskLimits.maxIdempotencyKeyBytes - 8) bytes on a batch"))
        }
        var batchID = routerName
        if batchID == nil { batchID = try await redisCall { try await SubmissionHeaders.batchID(request, tenant: tenant, signer: signer) } }
        let batch = try await JSONBody.decode(TaskBatch.self, from: request, limit: TaskLimits.maxBatchBodyBytes)
        do { try batch.validate() } catch { throw HTTPProblem(badRequest: error) }
        try throwIfDoorRefuses(tenant: tenant, leastUrgentClass: batch.tasks.map(\.priority).max() ?? 0)
        let outcomes = try await inTurn(tenant: tenant, tasks: batch.tasks.count) {
            try await redisCall(tenant: tenant) {
                try await tasks.submitBatch(tenant: tenant, submissions: batch.tasks, nowMs: nowMs, batchID: batchID, idempotencyKey: key)
            }
        }
        var accepted: [SubmissionAccepted] = []
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .created(let id), .existing(let id), .replay(let id):
                accepted.append(SubmissionAccepted(id: id, state: "QUEUED"))
            case .conflict(let id):
                throw HTTPProblem.conflict(
                    key == nil ? "id_conflict" : "idempotency_conflict",
                    "item \(index) (task \(id)) was already submitted with a different body under this batch's name")
            }
        }
        return try JSONBody.response(TaskBatchAccepted(tasks: accepted), status: .accepted)
    }

    /// Runs the write in the tenant's turn; a tenant with `TenantWriteGate.maxWaiting` requests
    /// already waiting is answered `429 writes_queued` (nothing written).
    private func inTurn<T>(tenant: String, tasks count: Int, _ write: () async throws -> T) async throws -> T {
        do {
            return try await writeGate.withTurn(tenant: tenant, cost: count, write)
        } catch is TenantWriteGate.LineFull {
            refused(tenant, "writes_queued")
            throw HTTPProblem.tooManyRequests(
                "writes_queued", "\(writeGate.maxWaiting) of the tenant's submissions are already waiting to be written here; nothing was written",
                retryAfterMs: 1_000)
        }
    }

    private func redisCall<T>(tenant: String = "", _ operation: () async throws -> T) async throws -> T {
        do {
            return try await HTTPProblem.mappingStoreErrors(onOutage: redisFailed, operation)
        } catch let refusal as TaskStore.DoorRefusal {
            let problem = Self.problem(refusal)
            refused(tenant, problem.problem.code)
            throw problem
        }
    }

    /// `429` with `Retry-After` (whole seconds, at least 1) for a submission refused at the door.
    static func problem(_ refusal: TaskStore.DoorRefusal) -> HTTPProblem {
        switch refusal {
        case .rateLimited(let retryAfterMs):
            return doorRefusal(
                "rate_limited", "over the tenant's submission rate; retry after \(retryAfterMs) ms", retryAfterMs: retryAfterMs)
        case .storageExceeded(let stored, let limit, let retryAfterMs):
            return doorRefusal(
                "storage_exceeded", "the tenant's task records hold \(stored) bytes of its maxStoredBytes \(limit); nothing was written",
                retryAfterMs: retryAfterMs, routerWaitMs: min(retryAfterMs, 1_000))
        case .ingestBacklog(let retryAfterMs):
            return doorRefusal(
                "ingest_backlog",
                "\(DoorScript.ingestBacklogLimit) of the tenant's submissions are still waiting to be admitted; nothing was written",
                retryAfterMs: retryAfterMs)
        case .suspended:
            return HTTPProblem(.forbidden, code: "tenant_suspended", message: "the tenant is suspended: submissions are refused until an operator resumes it")
        case .tooLarge(let limit):
            return HTTPProblem(.badRequest, code: "batch_too_large", message: "the batch is larger than the tenant's \(limit): split it", field: "tasks")
        case .quotaExceeded(let outstanding, let limit):
            // The quota frees only as tasks finish: no exact wait, the router holds off briefly.
            return doorRefusal(
                "quota_exceeded", "the tenant has \(outstanding) unfinished tasks of its maxQueued \(limit); nothing was written",
                retryAfterMs: 1_000, routerWaitMs: 100)
        }
    }

    /// A 429 from the door, with `X-Flux-Door-Refusal: <code> <ms>` telling the router how long
    /// to answer the tenant's new submissions itself (`routerWaitMs`, by default the door's wait).
    private static func doorRefusal(_ code: String, _ message: String, retryAfterMs: Int64, routerWaitMs: Int64? = nil) -> HTTPProblem {
        var problem = HTTPProblem.tooManyRequests(code, message, retryAfterMs: retryAfterMs)
        problem.headers[SubmissionHeaders.doorRefusal] = "\(code) \(routerWaitMs ?? retryAfterMs)"
        return problem
    }
}
