import FluxAPI
import FluxRedis
import FluxRuntime
import Foundation
import Hummingbird
import NIOCore

/// The router's own endpoints: health, the cluster as Redis describes it, the scheduler snapshot
/// of every live shard side by side, and the router's metrics.
struct ClusterRoutes: Sendable {
    let directory: OwnerDirectory
    let forwarder: ShardForwarder
    let auth: Authenticator
    let redis: any RedisBackend
    let metrics: RouterMetrics
    let configuration: RouterConfiguration

    func register(on router: Router<BasicRequestContext>) {
        router.get("healthz") { _, _ in try JSONBody.response(["status": "ok", "version": configuration.version]) }
        router.get("readyz") { _, _ in try readiness() }
        router.get("v1/admin/cluster") { request, _ in try await cluster(request) }
        router.get("scheduler/debug/snapshot") { request, _ in try await snapshot(request) }
        router.put("v1/admin/scheduler/mode") { request, _ in try await setMode(request) }
        router.get("metrics") { _, _ in metricsText() }
        router.get("v1/cluster/ca") { _, _ in try await clusterCA() }
    }

    /// The cluster CA as the first live shard that answers serves it (every shard that signs
    /// has the same CA); public, so agents and operators can check a pin.
    private func clusterCA() async throws -> Response {
        var last: HTTPProblem?
        for shard in await directory.refresh().liveShards {
            let outcome = await forwarder.forward(method: .get, to: shard.api, pathAndQuery: "/v1/cluster/ca", headers: HTTPFields(), body: ByteBuffer())
            guard case .answered(let answer) = outcome else { continue }
            if answer.status == .ok { return answer.response }
            last = HTTPProblem.unavailable("enrollment_disabled", "this cluster signs no agent certificates: its shards run without --ca")
        }
        throw last ?? HTTPProblem.unavailable("no_owner", "no shard is reachable right now; retry shortly")
    }

    /// Ready once at least one live shard owns at least one slot: before that every call but a
    /// submission would be answered 503.
    private func readiness() throws -> Response {
        let table = directory.table
        let ready = table.ownedSlotCount > 0
        let body = [
            "status": ready ? "ready" : "not_ready", "ownedSlots": "\(table.ownedSlotCount)", "shards": "\(table.liveShards.count)",
            "agentAuth": configuration.agentTLS != nil ? "mtls" : "insecure-dev",
        ]
        return try JSONBody.response(body, status: ready ? .ok : .serviceUnavailable)
    }

    private func cluster(_ request: Request) async throws -> Response {
        try auth.admin(request)
        do {
            let view = try await ClusterReport.build(
                redis: redis, membership: Membership(redis: redis, memberTTLMs: configuration.memberTTL.milliseconds),
                slotCount: configuration.slotCount, nowMs: WallClock.nowMs())
            return try JSONBody.response(view)
        } catch is RedisError {
            throw HTTPProblem.unavailable("redis_unavailable", "the coordination store is unreachable; retry later")
        }
    }

    /// Asks every live shard for its snapshot at once; a shard that does not answer is listed
    /// under `unreachable` rather than failing the whole view.
    private func snapshot(_ request: Request) async throws -> Response {
        try auth.admin(request)
        let shards = await directory.refresh().liveShards
        var authorization = HTTPFields()
        authorization[.authorization] = request.headers[.authorization]
        let answers: [(String, Result<SchedulerSnapshotView, ShardCallFailure>)] = await askEach(
            shards, method: .get, path: "/scheduler/debug/snapshot", headers: authorization, body: ByteBuffer())
        var view = ClusterSnapshotView(atMs: WallClock.nowMs(), shards: [], unreachable: [:])
        for (id, result) in answers {
            switch result {
            case .success(let snapshot): view.shards.append(snapshot)
            case .failure(let failure): view.unreachable[id] = failure.reason
            }
        }
        view.summarize()
        return try JSONBody.response(view)
    }

    /// Sets (or clears) the mode override of every live shard, or of the one named: each shard
    /// keeps it in Redis and re-applies it when it restarts. A shard that does not answer is
    /// listed under `unreachable`; a named shard that is not live is 404 `shard_not_found`.
    private func setMode(_ request: Request) async throws -> Response {
        try auth.admin(request)
        let body = try await JSONBody.decode(SchedulerModeRequest.self, from: request, limit: 1_024)
        do { try body.validate() } catch { throw HTTPProblem(badRequest: error) }
        let live = await directory.refresh().liveShards
        let targets = body.shard.map { name in live.filter { $0.id == name } } ?? live
        if let name = body.shard, targets.isEmpty {
            throw HTTPProblem(.notFound, code: "shard_not_found", message: "no live shard is named \(name)")
        }
        var headers = HTTPFields()
        headers[.authorization] = request.headers[.authorization]
        headers[.contentType] = "application/json"
        let forwarded = ByteBuffer(bytes: try JSONEncoder().encode(SchedulerModeRequest(mode: body.mode)))
        let answers: [(String, Result<SchedulerModeView, ShardCallFailure>)] = await askEach(
            targets, method: .put, path: "/v1/admin/scheduler/mode", headers: headers, body: forwarded)
        var view = ClusterModeView(shards: [:], unreachable: [:])
        for (id, result) in answers {
            switch result {
            case .success(let mode): view.shards[id] = mode
            case .failure(let failure): view.unreachable[id] = failure.reason
            }
        }
        return try JSONBody.response(view)
    }

    /// The same call to each of `shards` at once; each answer decoded as `T` when it is a 200,
    /// or why not. Sorted by shard id.
    private func askEach<T: Decodable & Sendable>(
        _ shards: [OwnerTable.Shard], method: HTTPRequest.Method, path: String, headers: HTTPFields, body: ByteBuffer
    ) async -> [(String, Result<T, ShardCallFailure>)] {
        let forwarder = forwarder
        let answers = await withTaskGroup(of: (String, Result<T, ShardCallFailure>).self) { group in
            for shard in shards {
                group.addTask {
                    let outcome = await forwarder.forward(method: method, to: shard.api, pathAndQuery: path, headers: headers, body: body)
                    guard case .answered(let answer) = outcome, answer.status == .ok,
                          let value = try? JSONDecoder().decode(T.self, from: Data(buffer: answer.body))
                    else { return (shard.id, .failure(ShardCallFailure(outcome))) }
                    return (shard.id, .success(value))
                }
            }
            var answers: [(String, Result<T, ShardCallFailure>)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        return answers.sorted { $0.0 < $1.0 }
    }

    private func metricsText() -> Response {
        metrics.table(directory.table)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}

/// Why one shard's answer is missing from an aggregated view (snapshot, mode).
struct ShardCallFailure: Error {
    let reason: String

    init(_ outcome: ShardForwarder.Outcome) {
        switch outcome {
        case .answered(let answer): reason = "answered \(answer.status.code)"
        case .failed(let failure): reason = "\(failure)"
        }
    }
}
