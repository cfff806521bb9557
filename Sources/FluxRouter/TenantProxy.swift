import FluxAPI
import FluxRedis
import FluxRuntime
import Hummingbird
import Logging
import NIOCore

/// `/v1/tenants/{tenant}/…` on the router. Submissions it writes itself (the submit script;
/// the slot's ingest stream hands them to the owner). Every other call it passes to the shard
/// that owns the tenant's slot; when that fails, it follows `ForwardPolicy` — look again, or say
/// why it cannot answer. With `--submit-through-shards`, submissions are forwarded too, and
/// written here only when no shard takes them.
struct TenantProxy: Sendable {
    let directory: OwnerDirectory
    let forwarder: ShardForwarder
    let auth: Authenticator
    let submissions: SubmissionEndpoint
    let metrics: RouterMetrics
    let configuration: RouterConfiguration
    /// Event streams are served here, from Redis, not forwarded: a watcher costs no shard work.
    let events: EventStreamRoutes
    let refusals = RefusalCache()

    /// Smallest and largest pause between two tries while the owner table catches up.
    static let firstRetryDelay: Duration = .milliseconds(25)
    static let maxRetryDelay: Duration = .milliseconds(250)

    func register(on router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("v1/tenants/{tenant}/**", method: method) { request, context in
                let segments = context.parameters.getCatchAll()
                guard !segments.isEmpty, !segments.contains(where: { $0 == "." || $0 == ".." || $0.isEmpty }) else {
                    throw HTTPProblem(.notFound, code: "route_not_found", message: "no such endpoint")
                }
                if let stream = try await events.serve(request, tenant: try context.parameters.require("tenant"), segments: segments) {
                    return stream
                }
                let call = ForwardPolicy.Call(method: request.method.rawValue, rest: segments.joined(separator: "/"))
                return try await route(request, context, call: call)
            }
        }
        // Tenant settings live in the tenant's slot: the owner writes them.
        router.put("v1/admin/tenants/{tenant}") { request, context in try await route(request, context, call: .otherWrite) }
    }

    /// Routes one call about the path's `{tenant}` to the owner of its slot.
    func route(_ request: Request, _ context: BasicRequestContext, call: ForwardPolicy.Call) async throws -> Response {
        let tenant = try context.parameters.require("tenant")
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw HTTPProblem(badRequest: error) }
        var request = request
        let body = try await JSONBody.collect(&request, limit: Self.bodyLimit(call))
        var headers = request.headers
        // Only the router names tasks: whatever a client sent is dropped.
        for name in [SubmissionHeaders.taskID, SubmissionHeaders.taskIDSignature, SubmissionHeaders.batchID, SubmissionHeaders.batchIDSignature] {
            headers[name] = nil
        }
        // Named before the first try: any later try of this submission (or batch) is the same write.
        let chosenID = TaskIDs.generate()
        let pathAndQuery = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
        let slot = Slotting.slot(forTenant: tenant, slotCount: configuration.slotCount)
        let isSubmission = call == .submit || call == .submitBatch
        if isSubmission, let refusal = refusals.refusal(of: tenant) {
            try await refuse(request, tenant: tenant, refusal)
        }
        // A submission crosses one server: the router authenticates, validates and runs the
        // submit script itself, and the slot's ingest stream hands it to the owner (issue 16).
        if isSubmission, !configuration.submitThroughShards {
            let owner = directory.table.owner(ofSlot: slot)?.shard
            if owner?.readOnly == true {
                try await authenticate(request, tenant: tenant)
                throw HTTPProblem.unavailable("read_only", "the scheduler serving tenant \(tenant) is READ_ONLY; submissions are refused until it recovers")
            }
            // Backpressure at the door: the owner's waiting tasks take too long to drain and
            // this tenant holds at least its share of them.
            if let owner, owner.refusing.contains(tenant) {
                try await authenticate(request, tenant: tenant)
                metrics.submissionRefused(tenant: tenant, code: "backlog")
                throw HTTPProblem.tooManyRequests(
                    "backlog", "the shard serving tenant \(tenant) has more waiting work than it drains in its bound and the tenant holds at least its share of it; nothing was written",
                    retryAfterMs: owner.refusingForMs)
            }
            return try await writeDirectly(call, tenant: tenant, head: request.head, headers: headers, body: body, chosenID: chosenID)
        }
        // Forwarded, the name reaches the shard with the router's signature (only the router may
        // name tasks); written here, it needs none.
        try await HTTPProblem.mappingStoreErrors {
            if call == .submit {
                headers[SubmissionHeaders.taskID] = chosenID
                headers[SubmissionHeaders.taskIDSignature] = try await submissions.signer.sign(tenant: tenant, id: chosenID)
            } else if call == .submitBatch {
                headers[SubmissionHeaders.batchID] = chosenID
                headers[SubmissionHeaders.batchIDSignature] = try await submissions.signer.sign(tenant: tenant, id: "batch/" + chosenID)
            }
        }

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.retryBudget
        var delay = Self.firstRetryDelay
        var table = directory.table
        while true {
            let failure: ForwardPolicy.Failure
            if let owner = table.owner(ofSlot: slot) {
                switch await forwarder.forward(method: request.method, to: owner.shard.api, pathAndQuery: pathAndQuery, headers: headers, body: body) {
                case .answered(let answer) where answer.status != .misdirectedRequest:
                    metrics.forwarded(status: answer.status.code)
                    if isSubmission, answer.status == .tooManyRequests, let door = answer.headers[SubmissionHeaders.doorRefusal] {
                        refusals.remember(tenant: tenant, header: door)
                    }
                    return answer.response
                case .answered:
                    failure = .misdirected
                case .failed(let reason):
                    failure = reason
                }
            } else {
                failure = .noOwner
            }
            metrics.failedTry(failure)
            switch ForwardPolicy.next(call: call, failure: failure, budgetLeft: clock.now < deadline) {
            case .retry:
                try await Task.sleep(for: delay)
                delay = min(delay * 2, Self.maxRetryDelay)
                table = await directory.refresh()
            case .writeDirectly:
                context.logger.info("writing submission directly", metadata: ["tenant": "\(tenant)", "slot": "\(slot)", "why": "\(failure)"])
                return try await writeDirectly(call, tenant: tenant, head: request.head, headers: headers, body: body, chosenID: chosenID)
            case .unavailable:
                metrics.gaveUp("no_owner")
                throw HTTPProblem.unavailable("no_owner", "no shard serves tenant \(tenant) (slot \(slot)) right now; retry shortly")
            case .uncertain:
                metrics.gaveUp("upstream_failed")
                throw HTTPProblem(.badGateway, code: "upstream_failed",
                    message: "the shard serving tenant \(tenant) failed during the call; it may or may not have taken effect")
            }
        }
    }

    /// Answers a new submission of a tenant the door refused moments ago, as the shard would:
    /// 429 with the same code (the caller authenticated first, so nobody learns another tenant
    /// is refused).
    private func refuse(_ request: Request, tenant: String, _ refusal: RefusalCache.Refusal) async throws -> Never {
        try await authenticate(request, tenant: tenant)
        metrics.submissionRefused(tenant: tenant, code: refusal.code)
        metrics.refusalRemembered()
        let ms = max(1, (refusal.until - .now).milliseconds)
        throw HTTPProblem.tooManyRequests(
            refusal.code, "the tenant's submissions are refused (\(refusal.code)) for \(ms) ms more; nothing was written", retryAfterMs: ms)
    }

    /// The router's own check of the tenant's token, for the calls it answers itself.
    private func authenticate(_ request: Request, tenant: String) async throws {
        do {
            _ = try await auth.tenant(tenant, request: request)
        } catch is RedisError {
            throw HTTPProblem.unavailable("redis_unavailable", "the coordination store is unreachable; retry later")
        }
    }

    /// Authenticates and writes the submission exactly as a shard would; a door refusal is
    /// remembered so the tenant's next tries are answered without a script.
    private func writeDirectly(
        _ call: ForwardPolicy.Call, tenant: String, head: HTTPRequest, headers: HTTPFields, body: ByteBuffer, chosenID: String
    ) async throws -> Response {
        var head = head
        head.headerFields = headers
        let request = Request(head: head, body: .init(buffer: body))
        try await authenticate(request, tenant: tenant)
        let nowMs = WallClock.nowMs()
        do {
            let response = call == .submitBatch
                ? try await submissions.submitBatch(request, tenant: tenant, nowMs: nowMs, routerName: chosenID)
                : try await submissions.submit(request, tenant: tenant, nowMs: nowMs, routerName: chosenID)
            metrics.wroteDirectly()
            return response
        } catch let problem as HTTPProblem {
            if let door = problem.headers[SubmissionHeaders.doorRefusal] { refusals.remember(tenant: tenant, header: door) }
            throw problem
        }
    }

    static func bodyLimit(_ call: ForwardPolicy.Call) -> Int {
        switch call {
        case .submit: TaskLimits.maxBodyBytes
        case .submitBatch: TaskLimits.maxBatchBodyBytes
        case .read, .otherWrite: 64 * 1024
        }
    }
}
