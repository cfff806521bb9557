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
    public static func batchID(_ request: Request, tenant: String, signer: TaskIDSigner?) async throws -> String? {
        guard let id = request.headers[batchID] else { return nil }
        guard TaskIDs.isWellFormed(id), let signer, let signature = request.headers[batchIDSignature],
              try await signer.verify(tenant: tenant, id: "batch/" + id, signature: signature)
        else {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Batch-Id", "only the router may name batches"))
        }
        return id
    }

    /// The task id chosen by the router, if any; 400 unless it is a well-formed id carrying the
    /// router's signature for this tenant (a client cannot name tasks).
    public static func taskID(_ request: Request, tenant: String, signer: TaskIDSigner?) async throws -> String? {
        guard let id = request.headers[taskID] else { return nil }
        guard TaskIDs.isWellFormed(id) else {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Task-Id", "must be a task id: 15 characters of lowercase Crockford base32"))
        }
        guard let signer, let signature = request.headers[taskIDSignature],
              try await signer.verify(tenant: tenant, id: id, signature: signature)
        else {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Task-Id", "only the router may name tasks"))
        }
        return id
    }
}
