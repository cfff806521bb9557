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
    let redis: RedisClient
    let metrics: RouterMetrics
    let configuration: RouterConfiguration

    func register(on router: Router<BasicRequestContext>) {
        router.get("healthz") { _, _ in try JSONBody.response(["status": "ok", "version": configuration.version]) }
        router.get("readyz") { _, _ in try readiness() }
        router.get("v1/admin/cluster") { request, _ in try await cluster(request) }
        router.get("scheduler/debug/snapshot") { request, _ in try await snapshot(request) }
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
        let headers = authorization
        let forwarder = forwarder
        let answers = await withTaskGroup(of: (String, Result<SchedulerSnapshotView, SnapshotFailure>).self) { group in
            for shard in shards {
                group.addTask {
                    let outcome = await forwarder.forward(
                        method: .get, to: shard.api, pathAndQuery: "/scheduler/debug/snapshot", headers: headers, body: ByteBuffer())
                    guard case .answered(let answer) = outcome, answer.status == .ok,
                          let view = try? JSONDecoder().decode(SchedulerSnapshotView.self, from: Data(buffer: answer.body))
                    else { return (shard.id, .failure(SnapshotFailure(outcome))) }
                    return (shard.id, .success(view))
                }
            }
            var answers: [(String, Result<SchedulerSnapshotView, SnapshotFailure>)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        var view = ClusterSnapshotView(atMs: WallClock.nowMs(), shards: [], unreachable: [:])
        for (id, result) in answers.sorted(by: { $0.0 < $1.0 }) {
            switch result {
            case .success(let snapshot): view.shards.append(snapshot)
            case .failure(let failure): view.unreachable[id] = failure.reason
            }
        }
        view.summarize()
        return try JSONBody.response(view)
    }

    private func metricsText() -> Response {
        metrics.table(directory.table)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}

/// Why one shard's snapshot is missing from the aggregated view.
struct SnapshotFailure: Error {
    let reason: String

    init(_ outcome: ShardForwarder.Outcome) {
        switch outcome {
        case .answered(let answer): reason = "answered \(answer.status.code)"
        case .failed(let failure): reason = "\(failure)"
        }
    }
}
