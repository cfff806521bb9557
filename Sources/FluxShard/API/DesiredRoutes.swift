import FluxAPI
import FluxCore
import FluxRuntime
import Hummingbird

/// `/v1/tenants/{tenant}/desired…`: declare, read, pause, resume, re-check and delete desired
/// states (docs/reconciliation.md, docs/api/openapi.yaml). The reconciler does the work; these
/// routes only change what it works from.
struct DesiredRoutes: Sendable {
    let services: ShardServices
    let tasks: TaskRoutes

    init(services: ShardServices) {
        self.services = services
        self.tasks = TaskRoutes(services: services)
    }

    var store: DesiredStore { DesiredStore(redis: services.redis, slotCount: services.configuration.slotCount) }

    func register(on router: Router<BasicRequestContext>) {
        let group = router.group("v1/tenants/{tenant}")
        group.get("desired") { request, context in try await list(request, context) }
        group.put("desired/{name}") { request, context in try await put(request, context) }
        group.get("desired/{name}") { request, context in try await get(request, context) }
        group.delete("desired/{name}") { request, context in try await delete(request, context) }
        // `{name}:reconcile`, `{name}:pause`, `{name}:resume` (names never hold a colon).
        group.post("desired/{name}") { request, context in try await action(request, context) }
        group.get("desired/{name}/nodes") { request, context in try await nodes(request, context) }
        group.get("desired/{name}/nodes/{node}/timeline") { request, context in try await timeline(request, context) }
    }

    private func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        try services.requireWritable()
        let name = try Self.name(context)
        let spec = try await JSONBody.decode(DesiredStateSpec.self, from: request, limit: TaskLimits.maxBodyBytes)
        do { try spec.validate() } catch { throw HTTPProblem(badRequest: error) }
        let outcome = try await services.redisCall { try await store.put(tenant: tenant, name: name, spec: spec, nowMs: services.nowMs()) }
        if outcome == .full {
            throw HTTPProblem.conflict("desired_limit", "tenant \(tenant) already has \(DesiredLimits.maxItemsPerTenant) desired states")
        }
        let view = try await self.view(tenant: tenant, name: name)
        if case .created = outcome { return try JSONBody.response(view, status: .created) }
        return try JSONBody.response(view)
    }

    private func get(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        return try JSONBody.response(try await view(tenant: tenant, name: try Self.name(context)))
    }

    private func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        let loaded = try await services.redisCall {
            try await store.load(try await store.names(tenant: tenant).map { (tenant, $0) })
        }
        return try JSONBody.response(DesiredStateList(items: loaded.compactMap { $0.map(Self.view) }))
    }

    private func delete(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        try services.requireWritable()
        let name = try Self.name(context)
        guard try await services.redisCall({ try await store.delete(tenant: tenant, name: name) }) else {
            throw HTTPProblem.notFound("desired state \(name)")
        }
        return Response(status: .noContent)
    }

    private func action(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        try services.requireWritable()
        let target = try context.parameters.require("name")
        guard let colon = target.firstIndex(of: ":") else {
            throw HTTPProblem(.notFound, code: "route_not_found", message: "POST …/desired/{name}:reconcile|:pause|:resume")
        }
        let name = String(target[..<colon])
        guard NameRules.isValidName(name) else { throw HTTPProblem.notFound("desired state \(name.prefix(64))") }
        switch target[target.index(after: colon)...] {
        case "reconcile":
            guard try await services.redisCall({ try await store.requestCheck(tenant: tenant, name: name, nowMs: services.nowMs()) }) else {
                throw HTTPProblem.notFound("desired state \(name)")
            }
        case "pause": try await setPaused(true, tenant: tenant, name: name)
        case "resume": try await setPaused(false, tenant: tenant, name: name)
        default:
            throw HTTPProblem(.notFound, code: "route_not_found", message: "POST …/desired/{name}:reconcile|:pause|:resume")
        }
        return try JSONBody.response(try await view(tenant: tenant, name: name))
    }

    private func setPaused(_ paused: Bool, tenant: String, name: String) async throws {
        guard var item = try await services.redisCall({ try await store.item(tenant: tenant, name: name) }) else {
            throw HTTPProblem.notFound("desired state \(name)")
        }
        item.spec.paused = paused
        _ = try await services.redisCall { try await store.put(tenant: tenant, name: name, spec: item.spec, nowMs: services.nowMs()) }
    }

    private func nodes(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        let name = try Self.name(context)
        guard let loaded = try await services.redisCall({ try await store.load([(tenant, name)]) }).first ?? nil else {
            throw HTTPProblem.notFound("desired state \(name)")
        }
        let views = loaded.records.sorted { $0.key < $1.key }.map { Self.nodeView($0.key, $0.value) }
        return try JSONBody.response(DesiredNodeList(name: name, generation: loaded.item.generation, nodes: views))
    }

    private func timeline(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await tasks.authorize(request, context)
        let name = try Self.name(context)
        let node = try context.parameters.require("node")
        guard NameRules.isValidName(node) else { throw HTTPProblem.notFound("node \(node.prefix(64))") }
        let entries = try await services.redisCall { try await store.timeline(tenant: tenant, name: name, node: node) }
        guard !entries.isEmpty else { throw HTTPProblem.notFound("timeline of \(name) on \(node)") }
        return try JSONBody.response(DesiredTimeline(name: name, node: node, entries: entries))
    }

    /// The desired state with its summary (one pipelined round trip); 404 when it does not exist.
    private func view(tenant: String, name: String) async throws -> DesiredStateView {
        guard let loaded = try await services.redisCall({ try await store.load([(tenant, name)]) }).first ?? nil else {
            throw HTTPProblem.notFound("desired state \(name)")
        }
        return Self.view(loaded)
    }

    static func view(_ loaded: DesiredStore.Loaded) -> DesiredStateView {
        let item = loaded.item
        let summary = loaded.records.values.reduce(into: [String: Int]()) { $0[$1.state.rawValue, default: 0] += 1 }
        return DesiredStateView(
            name: item.name, tenant: item.tenant, generation: item.generation, spec: item.spec, createdAtMs: item.createdAtMs,
            updatedAtMs: item.updatedAtMs, summary: summary)
    }

    static func nodeView(_ node: String, _ record: NodeReconciliation) -> DesiredNodeView {
        DesiredNodeView(
            node: node, zone: record.zone, state: record.state.rawValue, reason: record.reason.rawValue, generation: record.generation,
            lastCheckAtMs: record.lastCheckAtMs, lastDriftAtMs: record.lastDriftAtMs, lastRemediationTaskId: record.lastRemediationTaskID,
            taskId: record.taskID, attempts: record.failures, drifts: record.driftSeq, lastExitCode: record.lastExitCode,
            nextCheckAtMs: record.nextCheckAtMs, verifyDeadlineAtMs: record.verifyDeadlineAtMs)
    }

    static func name(_ context: BasicRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard NameRules.isValidName(name) else {
            throw HTTPProblem(badRequest: .invalid("name", "must match [a-z0-9-]{1,63}"))
        }
        return name
    }
}
