import Crypto
import FluxIdentity
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct AgentIdentityTests {
    static let now = ClusterCATests.now
    static let day: TimeInterval = 86_400
    static let acmeEdge = AgentIdentity(trustDomain: "prod.example", tenant: "acme", node: "edge-1")

    static func csr(_ key: P256.Signing.PrivateKey, tenant: String = "acme", node: String = "edge-1") throws -> CertificateSigningRequest {
        try CertificateSigningRequest(pemEncoded: try Enrollment.signingRequest(key: key, tenant: tenant, node: node))
    }

    @Test func spiffeIDsRoundTripAndOnlyTheAgentShapeParses() {
        #expect(Self.acmeEdge.uri == "spiffe://prod.example/tenant/acme/node/edge-1")
        #expect(AgentIdentity(uri: Self.acmeEdge.uri) == Self.acmeEdge)
        for bad in [
            "https://prod.example/tenant/acme/node/edge-1", "spiffe://prod.example/tenant/acme/node/", "spiffe://prod.example/tenant/acme",
            "spiffe://prod.example/tenant/acme/node/edge-1/x", "spiffe://Prod/tenant/acme/node/edge-1", "spiffe:///tenant/acme/node/edge-1",
            "spiffe://p/tenant/ACME/node/edge-1", "spiffe://p/shard/acme/node/edge-1", "spiffe://p/tenant/acme/node/edge_1",
        ] {
            #expect(AgentIdentity(uri: bad) == nil, "\(bad)")
        }
    }

    @Test func anAgentCertificateNamesThePathNotTheCSRAndIsAClientCertificateOfItsCA() async throws {
        let ca = try ClusterCATests.ca()
        let key = try ClusterCATests.key(11)
        // The CSR asks to be another tenant's node: the subject is ignored, the identity given wins.
        let certificate = try ca.issueAgentCertificate(
            csr: try Self.csr(key, tenant: "evil", node: "other"), identity: Self.acmeEdge, serial: [9, 9], now: Self.now, validity: Self.day)
        #expect(AgentIdentity(certificate: certificate) == Self.acmeEdge)
        #expect(certificate.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(try certificate.extensions.extendedKeyUsage.map(Array.init) == [.clientAuth], "an agent is no TLS server")
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(certificate.notValidAfter == Self.now + Self.day)
        #expect(await ClusterCATests.validates(certificate, against: ca.certificate, at: Self.now + 60))
        #expect(!(await ClusterCATests.validates(certificate, against: ca.certificate, at: Self.now + Self.day + 1)))
        #expect(!(await ClusterCATests.validates(certificate, against: try ClusterCATests.ca(8).certificate, at: Self.now + 60)))
    }

    @Test func aCSRWhoseSignatureDoesNotVerifyOrWhoseKeyIsNotP256IsRefused() throws {
        let ca = try ClusterCATests.ca()
        let genuine = try Self.csr(try ClusterCATests.key(11))
        // The same request info under another key's signature: possession is not proven.
        let forged = try CertificateSigningRequest(
            version: genuine.version, subject: genuine.subject, publicKey: genuine.publicKey, attributes: genuine.attributes,
            signatureAlgorithm: genuine.signatureAlgorithm, signature: try Self.csr(try ClusterCATests.key(12)).signature)
        #expect(throws: IdentityError.self) {
            try ca.issueAgentCertificate(csr: forged, identity: Self.acmeEdge, serial: [1], now: Self.now, validity: Self.day)
        }
        let p384 = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("edge-1") }, privateKey: Certificate.PrivateKey(P384.Signing.PrivateKey()),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA384)
        #expect(throws: IdentityError.self) {
            try ca.issueAgentCertificate(csr: p384, identity: Self.acmeEdge, serial: [1], now: Self.now, validity: Self.day)
        }
    }

    @Test func theAgentTrustsAnAnswerOnlyFromThePinnedCAForItsOwnKeyAndName() throws {
        let ca = try ClusterCATests.ca(), impostor = try ClusterCATests.ca(8)
        let key = try ClusterCATests.key(11)
        let identity = AgentIdentity(trustDomain: "fluxforge", tenant: "acme", node: "edge-1")
        let pem = { (certificate: Certificate) in try certificate.serializeAsPEM().pemString }
        let issued = try ca.issueAgentCertificate(csr: try Self.csr(key), identity: identity, serial: [1], now: Self.now, validity: Self.day)
        func verify(_ certificate: Certificate, by authority: ClusterCA, pin: String? = nil, node: String = "edge-1", at time: Date = AgentIdentityTests.now) throws {
            _ = try Enrollment.verify(
                certificatePEM: try pem(certificate), caCertificatePEM: try pem(authority.certificate), caHash: pin ?? ca.pin,
                key: key, tenant: "acme", node: node, now: time)
        }
        try verify(issued, by: ca)
        #expect(throws: IdentityError.self, "another CA than the pinned one") {
            try verify(try impostor.issueAgentCertificate(csr: try Self.csr(key), identity: identity, serial: [1], now: Self.now, validity: Self.day), by: impostor)
        }
        #expect(throws: IdentityError.self, "the pinned CA's certificate but another CA's signature") {
            try verify(try impostor.issueAgentCertificate(csr: try Self.csr(key), identity: identity, serial: [1], now: Self.now, validity: Self.day), by: ca)
        }
        #expect(throws: IdentityError.self, "a certificate for another key") {
            try verify(try ca.issueAgentCertificate(csr: try Self.csr(try ClusterCATests.key(12)), identity: identity, serial: [1], now: Self.now, validity: Self.day), by: ca)
        }
        #expect(throws: IdentityError.self, "another node") { try verify(issued, by: ca, node: "edge-2") }
        #expect(throws: IdentityError.self, "expired") { try verify(issued, by: ca, at: Self.now + 2 * Self.day) }
        #expect(throws: IdentityError.self, "a wrong pin") { try verify(issued, by: ca, pin: impostor.pin) }
    }
}
