import FluxAPI
import FluxRuntime
import Hummingbird

/// The tenant task API of docs/api/openapi.yaml. Handlers validate, authenticate, then either write the
/// submission to Redis (the ingest path) or read records back; state changes a tenant asks for
/// (cancel, resume) go through the scheduler driver so the core stays the single decider.
struct TaskRoutes: Sendable {
    let services: ShardServices

    func register(on router: Router<BasicRequestContext>) {
        let tasks = router.group("v1/tenants/{tenant}")
        tasks.post("tasks") { request, context in try await submit(request, context) }
        tasks.post("tasks:batch") { request, context in try await submitBatch(request, context) }
        tasks.get("tasks") { request, context in try await list(request, context) }
        tasks.get("tasks/{id}") { request, context in try await get(request, context) }
        tasks.get("tasks/{id}/timeline") { request, context in try await timeline(request, context) }
        tasks.get("tasks/{id}/explain") { request, context in try await explain(request, context) }
        tasks.post("tasks/{id}/cancel") { request, context in try await change(.cancel, request, context) }
        tasks.post("tasks/{id}/resume") { request, context in try await change(.resume, request, context) }
        tasks.get("nodes") { request, context in try await nodes(request, context) }
    }

    private func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        try services.refuseIfBacklogged(tenant)
        return try await services.submissions.submit(request, tenant: tenant, nowMs: services.nowMs())
    }

    private func submitBatch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        try services.refuseIfBacklogged(tenant)
        return try await services.submissions.submitBatch(request, tenant: tenant, nowMs: services.nowMs())
    }

    private func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        let query = request.uri.queryParameters
        let limit = try Self.limit(query["limit"].map(String.init))
        let state = try query["state"].map { try Self.state(String($0)) }
        let cursor = query["cursor"].map(String.init)
        let page = try await services.redisCall {
            try await services.tasks.list(tenant: tenant, state: state, limit: limit, cursor: cursor)
        }
        return try JSONBody.response(page)
    }

    private func get(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        let id = try Self.taskID(context)
        guard let view = try await services.redisCall({ try await services.tasks.task(tenant: tenant, id: id) }) else {
            throw HTTPProblem.notFound("task \(id)")
        }
        return try JSONBody.response(view)
    }

    private func timeline(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        let id = try Self.taskID(context)
        let entries = try await services.redisCall { try await services.tasks.timeline(tenant: tenant, id: id) }
        guard !entries.isEmpty else { throw HTTPProblem.notFound("task \(id)") }
        return try JSONBody.response(TimelinePage(taskId: id, entries: entries))
    }

    private func change(_ change: TaskChange, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        try services.requireWritable()
        let id = try Self.taskID(context)
        guard try await services.redisCall({ try await services.tasks.task(tenant: tenant, id: id) }) != nil else {
            throw HTTPProblem.notFound("task \(id)")
        }
        try await services.driver.request(change, tenant: tenant, taskID: id)
        guard let view = try await services.tasks.task(tenant: tenant, id: id) else { throw HTTPProblem.notFound("task \(id)") }
        return try JSONBody.response(view)
    }

    private func nodes(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authorize(request, context)
        return try JSONBody.response(NodeList(nodes: await services.driver.nodes(tenant: tenant)))
    }

    func authorize(_ request: Request, _ context: BasicRequestContext) async throws -> String {
        let tenant = try context.parameters.require("tenant")
        _ = try await services.redisCall { try await services.auth.tenant(tenant, request: request) }
        try await services.requireOwner(of: tenant)
        return tenant
    }

    static func taskID(_ context: BasicRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard TaskIDs.isWellFormed(id) else { throw HTTPProblem.notFound("task \(id.prefix(64))") }
        return id
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 100 }
        guard let value = Int(text), (1...TaskStore.maxPageSize).contains(value) else {
            throw HTTPProblem(badRequest: .invalid("limit", "must be an integer within 1…\(TaskStore.maxPageSize)"))
        }
        return value
    }

    static func state(_ text: String) throws -> String {
        guard TaskStates.all.contains(text) else {
            throw HTTPProblem(badRequest: .invalid("state", "unknown state \(text.prefix(32))"))
        }
        return text
    }
}
