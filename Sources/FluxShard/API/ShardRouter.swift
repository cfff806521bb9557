import FluxRuntime
import FluxTLS
import Hummingbird
import HummingbirdWebSocket
import Logging

/// Builds the shard's two routers: the tenant/admin HTTP API and the agent WebSocket gateway.
enum ShardRouter {
    static func api(_ services: ShardServices) -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ProblemMiddleware())
        router.get("healthz") { _, _ in try JSONBody.response(["status": "ok"]) }
        router.get("readyz") { _, _ in try readiness(services) }
        TaskRoutes(services: services).register(on: router)
        EventStreamRoutes(redis: services.redis, auth: services.auth, slotCount: services.configuration.slotCount, gate: services.eventStreams)
            .register(on: router)
        DesiredRoutes(services: services).register(on: router)
        EnrollmentRoutes(services: services).register(on: router)
        AdminRoutes(services: services).register(on: router)
        TenantAdminRoutes(admin: services.tenantAdmin, auth: services.auth, nowMs: { WallClock.nowMs() }).register(on: router)
        DebugRoutes(services: services).register(on: router)
        return router
    }

    /// The plain-HTTP operations listener (`--ops-port`): health, readiness and metrics only,
    /// for probes and scrapers that hold no client certificate when the API takes mutual TLS.
    static func ops(_ services: ShardServices) -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ProblemMiddleware())
        router.get("healthz") { _, _ in try JSONBody.response(["status": "ok"]) }
        router.get("readyz") { _, _ in try readiness(services) }
        router.get("metrics") { _, _ in await DebugRoutes(services: services).metrics() }
        return router
    }

    static func agents(_ services: ShardServices, logger: Logger) -> Router<AgentConnectionContext> {
        let router = Router(context: AgentConnectionContext.self)
        router.ws("v1/agent/connect") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let channel = context.requestContext.channel
            let peer = await AgentTLS.peer(of: channel)
            try await AgentSession(
                services: services, outbound: outbound, peer: peer, closeConnection: { try? await channel.close() }, logger: context.logger
            ).run(inbound)
        }
        return router
    }

    /// Ready means: it holds leases, has loaded those slots from Redis (so submissions are
    /// admitted without waiting for a rebuild), and can write (not READ_ONLY).
    private static func readiness(_ services: ShardServices) throws -> Response {
        let slots = services.driver.activeSlots.count
        let ready = slots > 0 && !services.driver.isReadOnly
        let body = [
            "status": ready ? "ready" : "not_ready", "slots": String(slots), "mode": services.driver.modeName,
            "agentAuth": services.configuration.agentAuthentication,
            "apiTLS": services.configuration.apiMutualTLS ? "mtls" : "off",
        ]
        return try JSONBody.response(body, status: ready ? .ok : .serviceUnavailable)
    }
}
