import FluxAPI
import FluxIdentity
import FluxRuntime
import Foundation
import X509

/// Signs an agent's certificate with the cluster CA, for enrollment (after a join token was
/// checked) and for renewal (over a session the agent opened with its current certificate), and
/// records it: the serial per node (what revocation names) and an audit entry.
struct AgentCertificateIssuer: Sendable {
    let services: ShardServices

    /// A certificate made but not yet recorded: enrollment spends the token in between.
    struct Signed: Sendable {
        let certificate: Certificate
        let identity: AgentIdentity
        let serial: String
        let nowMs: Int64
    }

    enum Failure: Error, CustomStringConvertible {
        case disabled
        case invalidCSR(String)

        var description: String {
            switch self {
            case .disabled: "this cluster signs no agent certificates: its shards run without --ca"
            case .invalidCSR(let reason): reason
            }
        }
    }

    /// Checks the CSR (PEM, signature, P-256) and signs a certificate naming `tenant`/`node`.
    func sign(csrPEM: String, tenant: String, node: String) throws(Failure) -> Signed {
        guard let ca = services.ca else { throw .disabled }
        guard !csrPEM.isEmpty, csrPEM.utf8.count <= EnrollmentRequest.maxCSRBytes,
              let csr = try? CertificateSigningRequest(pemEncoded: csrPEM)
        else { throw .invalidCSR("csr is not a PEM certificate signing request") }
        let identity = AgentIdentity(trustDomain: services.configuration.trustDomain, tenant: tenant, node: node)
        let nowMs = services.nowMs()
        let serial = { var random = SystemRandomNumberGenerator(); return ClusterCA.randomSerial(using: &random) }()
        let validity = TimeInterval(services.configuration.agentCertificateValidity.milliseconds) / 1_000
        do {
            let certificate = try ca.issueAgentCertificate(
                csr: csr, identity: identity, serial: serial, now: Date(timeIntervalSince1970: TimeInterval(nowMs) / 1_000), validity: validity)
            return Signed(certificate: certificate, identity: identity, serial: ClusterCA.hex(serial), nowMs: nowMs)
        } catch {
            throw .invalidCSR(error.description)
        }
    }

    /// Records `signed` as the node's current certificate, audits `action`, and returns what the
    /// agent receives.
    func record(_ signed: Signed, action: String) async throws -> EnrollmentIssued {
        let tenant = signed.identity.tenant, node = signed.identity.node
        let notAfterMs = Int64(signed.certificate.notValidAfter.timeIntervalSince1970 * 1_000)
        let store = JoinTokenStore(redis: services.redis, slotCount: services.configuration.slotCount)
        try await store.recordCertificate(tenant: tenant, node: node, serial: signed.serial, notAfterMs: notAfterMs, nowMs: signed.nowMs)
        try await services.tenantAdmin.audit(action, tenant: tenant, detail: "node \(node), serial \(signed.serial)", nowMs: signed.nowMs)
        guard let ca = services.ca else { throw Failure.disabled }
        return EnrollmentIssued(
            tenant: tenant, node: node, spiffeID: signed.identity.uri, serial: signed.serial, notAfterMs: notAfterMs,
            certificate: try signed.certificate.serializeAsPEM().pemString, caCertificate: try ca.certificate.serializeAsPEM().pemString)
    }
}
