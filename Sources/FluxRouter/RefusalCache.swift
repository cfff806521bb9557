import FluxRuntime
import Foundation
import Synchronization

/// The door's recent refusals, by tenant, so the router answers a tenant that keeps submitting
/// while refused without a round trip to the shard and Redis.
///
/// The door (the submit script, run by the router itself or by a shard) says until when
/// (`X-Flux-Door-Refusal: <code> <ms>`: the exact GCRA wait for `rate_limited`, 100 ms for
/// `quota_exceeded` and `ingest_backlog`, at most 1 s for `storage_exceeded`); until then the
/// router answers that tenant's *new* submissions 429 with the same code itself, after
/// authenticating the caller. A flood that ignores `Retry-After` then costs an HTTP parse at
/// the router, not a Lua script (docs/security.md). The router's own retries of a submission it
/// already sent never consult it: a retry may find its first try written, and must say so.
final class RefusalCache: Sendable {
    struct Refusal: Sendable {
        var code: String
        var until: ContinuousClock.Instant
    }

    private let refusals = Mutex<[String: Refusal]>([:])
    /// Entries kept before expired ones are swept.
    static let sweepAbove = 10_000

    /// The tenant's refusal still in force, if any.
    func refusal(of tenant: String, now: ContinuousClock.Instant = .now) -> Refusal? {
        refusals.withLock { refusals in
            guard let refusal = refusals[tenant] else { return nil }
            if refusal.until > now { return refusal }
            refusals[tenant] = nil
            return nil
        }
    }

    /// Remembers a shard's `X-Flux-Door-Refusal` value for the tenant.
    func remember(tenant: String, header: String, now: ContinuousClock.Instant = .now) {
        let parts = header.split(separator: " ")
        guard parts.count == 2, let ms = Int64(parts[1]), ms > 0 else { return }
        let refusal = Refusal(code: String(parts[0]), until: now + .milliseconds(min(ms, 1_000)))
        refusals.withLock { refusals in
            if refusals.count > Self.sweepAbove { refusals = refusals.filter { $0.value.until > now } }
            refusals[tenant] = refusal
        }
    }
}
