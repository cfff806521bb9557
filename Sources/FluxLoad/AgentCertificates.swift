import Crypto
import FluxIdentity
import Foundation
public import NIOSSL
import X509

/// Certificates for simulated agents, minted in the load generator from the cluster CA's key
/// (`bench load --agent-ca DIR`). Enrollment is not what a load run measures, so each agent gets
/// its certificate without the round trip, through the same signing code a shard uses; what the
/// run then measures is mutual TLS on every session, as real enrolled agents use it.
public struct AgentCertificates: Sendable {
    let ca: ClusterCA
    let trustDomain: String
    private let roots: [NIOSSLCertificate]

    public init(caDirectory: String, trustDomain: String) throws {
        ca = try ClusterCA(directory: caDirectory)
        self.trustDomain = trustDomain
        roots = try NIOSSLCertificate.fromPEMFile("\(caDirectory)/ca.crt")
    }

    /// A client TLS configuration with a fresh key and a certificate naming `tenant`/`node`:
    /// TLS 1.3, the cluster CA as the only root (as `fluxforge agent` after enrollment).
    public func clientConfiguration(tenant: String, node: String) throws -> TLSConfiguration {
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(pemEncoded: try Enrollment.signingRequest(key: key, tenant: tenant, node: node))
        var random = SystemRandomNumberGenerator()
        let certificate = try ca.issueAgentCertificate(
            csr: csr, identity: AgentIdentity(trustDomain: trustDomain, tenant: tenant, node: node),
            serial: ClusterCA.randomSerial(using: &random), now: Date(), validity: 86_400)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates(roots)
        tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(try certificate.serializeAsPEM().pemString.utf8), format: .pem))]
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
        return tls
    }
}
