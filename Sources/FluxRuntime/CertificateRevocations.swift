public import FluxRedis

/// Revoked agent certificates (issue 12): a cluster-wide set of serials that every router
/// checks at `hello` and against its live sessions. A revocation lasts until the certificate
/// would have expired anyway; the version counter lets a router poll cheaply and reload the
/// set only when it changed.
public struct CertificateRevocations: Sendable {
    let redis: any RedisBackend
    static let revokeScript = RedisScript(RevocationScripts.revoke)

    public init(redis: any RedisBackend) { self.redis = redis }

    /// Revokes `serial` (hex) until `notAfterMs`; returns the new version.
    @discardableResult
    public func revoke(serial: String, notAfterMs: Int64, nowMs: Int64) async throws -> Int64 {
        let reply = try await redis.evaluate(
            Self.revokeScript, keys: [ClusterKeys.revokedSerials, ClusterKeys.revocationsVersion],
            arguments: [serial, String(notAfterMs), String(nowMs)])
        return reply.int ?? 0
    }

    /// The current version (0 before the first revocation).
    public func version() async throws -> Int64 {
        Int64(try await redis.send(RedisCommand("GET", ClusterKeys.revocationsVersion)).string ?? "0") ?? 0
    }

    /// Serials revoked and not yet expired.
    public func current(nowMs: Int64) async throws -> Set<String> {
        let reply = try await redis.send(RedisCommand("ZRANGEBYSCORE", ClusterKeys.revokedSerials, String(nowMs), "+inf"))
        return Set(reply.array?.compactMap(\.string) ?? [])
    }

    /// Serial numbers as the API and Redis write them: lowercase hex, 2…40 digits, even.
    public static func isSerial(_ text: some StringProtocol) -> Bool {
        (2...40).contains(text.utf8.count) && text.utf8.count % 2 == 0
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
