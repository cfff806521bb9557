import FluxAPI
import FluxRuntime
import Hummingbird

/// Operator calls: tenant creation and settings (admin token required).
struct AdminRoutes: Sendable {
    let services: ShardServices

    func register(on router: Router<BasicRequestContext>) {
        router.put("v1/admin/tenants/{tenant}") { request, context in try await putTenant(request, context) }
    }

    private func putTenant(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try services.auth.admin(request)
        let tenant = try context.parameters.require("tenant")
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw HTTPProblem(badRequest: error) }
        let settings = try await JSONBody.decode(TenantSettings.self, from: request, limit: 16 * 1024)
        do { try settings.validate() } catch { throw HTTPProblem(badRequest: error) }
        try services.requireWritable()
        let created = try await services.redisCall {
            try await services.tenants.put(tenant, settings: settings, nowMs: services.nowMs())
        }
        services.auth.invalidate(tenant)
        await services.driver.tenantChanged(tenant, settings: settings)
        return try JSONBody.response(created, status: created.token == nil ? .ok : .created)
    }
}
