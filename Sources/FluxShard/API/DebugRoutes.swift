import FluxAPI
import FluxRuntime
import Hummingbird
import Prometheus

/// Operator views: the scheduler's debug snapshot (admin token) and Prometheus metrics.
struct DebugRoutes: Sendable {
    let services: ShardServices

    func register(on router: Router<BasicRequestContext>) {
        router.get("scheduler/debug/snapshot") { request, _ in try await snapshot(request) }
        router.get("metrics") { _, _ in await metrics() }
    }

    private func snapshot(_ request: Request) async throws -> Response {
        try services.auth.admin(request)
        guard let snapshot = await services.driver.snapshot() else {
            throw HTTPProblem.unavailable("redis_unavailable", "the scheduler is rebuilding after a Redis outage; retry later")
        }
        return try JSONBody.response(snapshot)
    }

    /// Prometheus text format 0.0.4. Unauthenticated, as scrapers expect; it names tenants,
    /// domains and counts, never task contents or tokens.
    func metrics() async -> Response {
        await services.driver.refreshMetrics()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        let bytes = services.metricsRegistry.emitToBuffer()
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
