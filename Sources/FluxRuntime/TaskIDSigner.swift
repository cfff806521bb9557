public import FluxRedis
import Crypto
import Synchronization

/// Lets a shard tell a task id the router chose from one a client made up.
///
/// The router names every single submission before its first try (`X-Flux-Task-Id`), so a retry
/// after a shard died mid-call finds the first write. A client must not be able to do the same:
/// a chosen id that is taken would answer 409 (an oracle for other tenants' ids) and a reused id
/// would silently keep the first body. So the router signs `<tenant>/<id>` with HMAC-SHA256
/// under a cluster key, and the submit path accepts a chosen id only with a valid signature.
///
/// The key lives in Redis (`ff:cluster` field `task_id_key`, created once by whoever needs it
/// first): routers and shards reach Redis, tenants never do. Read once per process, then cached.
public final class TaskIDSigner: Sendable {
    private let redis: any RedisBackend
    private let cached = Mutex<SymmetricKey?>(nil)

    public init(redis: any RedisBackend) {
        self.redis = redis
    }

    /// The HMAC of `<tenant>/<id>`, lowercase hex.
    public func sign(tenant: String, id: String) async throws -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(tenant)/\(id)".utf8), using: try await key())
        return code.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// True when `signature` is the router's for this tenant and id (compared in constant time).
    public func verify(tenant: String, id: String, signature: String) async throws -> Bool {
        Tokens.constantTimeEquals(try await sign(tenant: tenant, id: id), signature.lowercased())
    }

    /// Reads (or creates) the key now, so that no request is the one that writes it: a process
    /// calls this at start. When Redis cannot be reached yet, the first signature reads it later.
    public func prepare() async {
        _ = try? await key()
    }

    private func key() async throws -> SymmetricKey {
        if let key = cached.withLock({ $0 }) { return key }
        let candidate = Tokens.generate(prefix: "")
        let replies = try await redis.pipeline([
            RedisCommand("HSETNX", ClusterKeys.cluster, "task_id_key", candidate),
            RedisCommand("HGET", ClusterKeys.cluster, "task_id_key"),
        ])
        guard let stored = replies.last?.string, !stored.isEmpty else {
            throw RedisError(code: .protocolError, message: "cluster task id key unreadable: \(replies)")
        }
        let key = SymmetricKey(data: Array(stored.utf8))
        cached.withLock { $0 = key }
        return key
    }
}
