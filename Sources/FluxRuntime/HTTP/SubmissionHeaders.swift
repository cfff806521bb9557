public import FluxAPI
public import HTTPTypes
public import Hummingbird

/// Headers of a submission that change how it is written (docs/api/router.md).
///
/// `X-Flux-Idempotency-Key` is the client's: the same key and body within 24 h return the
/// original task. `X-Flux-Task-Id` is the router's: it names a single submission before the
/// first try, so that when a shard dies mid-request the router can send the same submission
/// again (or write it itself) and the second write finds the first instead of making a twin.
public enum SubmissionHeaders {
    public static let idempotencyKey = HTTPField.Name("X-Flux-Idempotency-Key")!
    public static let replay = HTTPField.Name("X-Flux-Idempotent-Replay")!
    /// On a submission refused at the door: `<code> <retry ms>`, the door's exact wait (the
    /// router keeps refusing that tenant's new submissions itself until then).
    public static let doorRefusal = HTTPField.Name("X-Flux-Door-Refusal")!
    public static let taskID = HTTPField.Name("X-Flux-Task-Id")!
    /// The router's HMAC over `<tenant>/<id>` (`TaskIDSigner`); without it a chosen id is refused.
    public static let taskIDSignature = HTTPField.Name("X-Flux-Task-Id-Signature")!
    /// The router's name for a batch (item ids derive from it), signed like a task id.
    public static let batchID = HTTPField.Name("X-Flux-Batch-Id")!
    public static let batchIDSignature = HTTPField.Name("X-Flux-Batch-Id-Signature")!

    /// The client's idempotency key, if any; 400 when malformed.
    public static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[idempotencyKey] else { return nil }
        guard IdempotencyKeyRules.isValid(key) else {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Idempotency-Key", "must be 1…128 printable ASCII characters without spaces"))
        }
        return key
    }

    /// The batch name chosen by the router, if any; 400 unless well-formed and signed for the tenant.
    public static func batchID(_ request: Request, tenant: String, signer: TaskIDSigner) async throws -> String? {
        try await routerName(request, batchID, batchIDSignature, signedAs: { "batch/" + $0 }, tenant: tenant, signer: signer, of: "batches")
    }

    /// The task id chosen by the router, if any; 400 unless it is a well-formed id carrying the
    /// router's signature for this tenant (a client cannot name tasks).
    public static func taskID(_ request: Request, tenant: String, signer: TaskIDSigner) async throws -> String? {
        try await routerName(request, taskID, taskIDSignature, signedAs: { $0 }, tenant: tenant, signer: signer, of: "tasks")
    }

    /// A name in `header`, accepted only as a task id signed by the router for `tenant`.
    private static func routerName(
        _ request: Request, _ header: HTTPField.Name, _ signatureHeader: HTTPField.Name, signedAs: (String) -> String,
        tenant: String, signer: TaskIDSigner, of what: String
    ) async throws -> String? {
        guard let id = request.headers[header] else { return nil }
        guard TaskIDs.isWellFormed(id) else {
            throw HTTPProblem(badRequest: .invalid(header.rawName, "must be 15 characters of lowercase Crockford base32"))
        }
        guard let signature = request.headers[signatureHeader], try await signer.verify(tenant: tenant, id: signedAs(id), signature: signature) else {
            throw HTTPProblem(badRequest: .invalid(header.rawName, "only the router may name \(what)"))
        }
        return id
    }
}
