import FluxAPI
import FluxRuntime
import HTTPTypes
import Hummingbird

/// Reads the optional `X-Flux-Idempotency-Key` header (DESIGN.md §6).
enum IdempotencyKey {
    static let header = HTTPField.Name("X-Flux-Idempotency-Key")!
    static let replayHeader = HTTPField.Name("X-Flux-Idempotent-Replay")!

    static func parse(_ request: Request) throws -> String? {
        guard let key = request.headers[header] else { return nil }
        guard IdempotencyKeyRules.isValid(key) else {
            throw HTTPProblem(badRequest: .invalid("X-Flux-Idempotency-Key", "must be 1…128 printable ASCII characters without spaces"))
        }
        return key
    }
}
