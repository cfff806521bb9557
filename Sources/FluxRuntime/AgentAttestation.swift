/// How a router vouches for an agent whose certificate it verified (issue 12): it relays the
/// session with an attestation in place of the agent token, and the shard accepts it instead.
///
/// The attestation is `ffid1:<expiry ms>:<hmac>`, the HMAC (by `TaskIDSigner`, under the
/// cluster key that only routers and shards can read in Redis) of `agent/<node>/<expiry ms>`
/// for the tenant. It names the tenant and node the certificate names, so it cannot be moved to
/// another node, and it expires after `lifetimeMs` (it is used once, at `hello`). Until the
/// router → shard hop is TLS too, someone who reads that hop could replay it within that time;
/// docs/security.md says so.
public enum AgentAttestation {
    static let prefix = "ffid1:"
    public static let lifetimeMs: Int64 = 60_000

    public static func isAttestation(_ token: String) -> Bool { token.hasPrefix(prefix) }

    public static func make(signer: TaskIDSigner, tenant: String, node: String, nowMs: Int64) async throws -> String {
        let expiry = nowMs + lifetimeMs
        return "\(prefix)\(expiry):\(try await signer.sign(tenant: tenant, id: "agent/\(node)/\(expiry)"))"
    }

    /// True when `token` is a router's attestation of this tenant and node that has not expired.
    public static func verify(_ token: String, signer: TaskIDSigner, tenant: String, node: String, nowMs: Int64) async throws -> Bool {
        let parts = token.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard isAttestation(token), parts.count == 2, let expiry = Int64(parts[0]),
              expiry >= nowMs, expiry <= nowMs + lifetimeMs, parts[1].utf8.count == 64
        else { return false }
        return try await signer.verify(tenant: tenant, id: "agent/\(node)/\(expiry)", signature: String(parts[1]))
    }
}
