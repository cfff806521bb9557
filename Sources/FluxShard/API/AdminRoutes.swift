import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime
import Hummingbird

/// Operator calls: tenant creation and settings, the scheduler's mode (admin token required).
struct AdminRoutes: Sendable {
    let services: ShardServices

    func register(on router: Router<BasicRequestContext>) {
        router.put("v1/admin/tenants/{tenant}") { request, context in try await putTenant(request, context) }
        router.put("v1/admin/scheduler/mode") { request, context in try await putMode(request, context) }
        router.get("v1/admin/cluster") { request, _ in try await cluster(request) }
    }

    /// Forces a mode (`READ_ONLY` refuses submissions with 503 `read_only`) or, with null, clears
    /// the override. Allowed in any mode: it is how an operator leaves READ_ONLY.
    private func putMode(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try services.auth.admin(request)
        let body = try await JSONBody.decode(SchedulerModeRequest.self, from: request, limit: 1_024)
        do { try body.validate() } catch { throw HTTPProblem(badRequest: error) }
        if let shard = body.shard, shard != services.shardID {
            throw HTTPProblem(badRequest: .invalid("shard", "this is shard \(services.shardID); set \(shard) through the router or at its own address"))
        }
        let mode = body.mode.flatMap(SchedulerMode.init(rawValue:))
        // Kept in Redis first, so a restart re-applies what the operator last asked for.
        let key = ClusterKeys.modeOverride(services.shardID)
        try await services.redisCall {
            _ = try await services.redis.send(mode.map { RedisCommand("SET", key, $0.rawValue) } ?? RedisCommand("DEL", key))
        }
        guard let view = await services.driver.setMode(mode) else {
            throw HTTPProblem.unavailable("redis_unavailable", "the coordination store is unreachable; the shard is READ_ONLY until it returns")
        }
        try? await services.tenantAdmin.audit("mode_set", tenant: "", detail: "\(body.mode ?? "cleared") → \(view.mode)", nowMs: services.nowMs())
        context.logger.notice("scheduler mode override", metadata: [
            "override": "\(body.mode ?? "cleared")", "mode": "\(view.mode)", "shard": "\(services.shardID)"])
        return try JSONBody.response(view)
    }

    private func putTenant(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try services.auth.admin(request)
        let tenant = try context.parameters.require("tenant")
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw HTTPProblem(badRequest: error) }
        try await services.requireOwner(of: tenant)
        let settings = try await JSONBody.decode(TenantSettings.self, from: request, limit: 16 * 1024)
        do { try settings.validate() } catch { throw HTTPProblem(badRequest: error) }
        try services.requireWritable()
        let created: TenantCreated
        do {
            created = try await services.redisCall {
                try await services.tenants.put(tenant, settings: settings, nowMs: services.nowMs())
            }
        } catch is TenantStore.BeingDeleted {
            throw HTTPProblem(.conflict, code: "tenant_deleting", message: "tenant \(tenant) is being deleted; its name is free once that finished")
        }
        services.auth.invalidate(tenant)
        await services.driver.tenantChanged(tenant, settings: settings)
        try? await services.tenantAdmin.audit(
            created.token == nil ? "tenant_updated" : "tenant_created", tenant: tenant,
            detail: "maxQueued \(settings.maxQueued), rate \(settings.rateLimitPerSec)/s", nowMs: services.nowMs())
        return try JSONBody.response(created, status: created.token == nil ? .ok : .created)
    }

    /// Members, slot leases with epochs and unowned slots, read from Redis.
    private func cluster(_ request: Request) async throws -> Response {
        try services.auth.admin(request)
        let view = try await services.redisCall {
            try await ClusterReport.build(
                redis: services.redis, membership: services.membership, slotCount: services.configuration.slotCount, nowMs: services.nowMs())
        }
        return try JSONBody.response(view)
    }
}
