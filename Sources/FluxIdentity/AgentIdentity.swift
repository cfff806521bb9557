public import Crypto
public import Foundation
public import X509
import SwiftASN1

/// Who an agent is, as its certificate says: one node of one tenant in one cluster, written as
/// the SPIFFE ID `spiffe://<trust domain>/tenant/<tenant>/node/<node>` in the certificate's URI
/// SAN. Sessions take tenant and node from here, never from what the agent claims in `hello`.
public struct AgentIdentity: Sendable, Hashable, CustomStringConvertible {
    public var trustDomain: String
    public var tenant: String
    public var node: String

    public init(trustDomain: String, tenant: String, node: String) {
        self.trustDomain = trustDomain
        self.tenant = tenant
        self.node = node
    }

    public var uri: String { "spiffe://\(trustDomain)/tenant/\(tenant)/node/\(node)" }
    public var description: String { uri }

    /// Parses an agent SPIFFE ID; nil for anything else (another shape, an empty part, a query).
    public init?(uri: String) {
        let scheme = "spiffe://"
        guard uri.hasPrefix(scheme) else { return nil }
        let parts = uri.dropFirst(scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[1] == "tenant", parts[3] == "node", Self.isTrustDomain(parts[0]),
              Self.isName(parts[2]), Self.isName(parts[4])
        else { return nil }
        self.init(trustDomain: String(parts[0]), tenant: String(parts[2]), node: String(parts[4]))
    }

    /// The agent identity a certificate names in its URI SAN, if it names exactly one.
    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        let identities = names.compactMap { name -> AgentIdentity? in
            if case .uniformResourceIdentifier(let uri) = name { return AgentIdentity(uri: uri) }
            return nil
        }
        guard identities.count == 1 else { return nil }
        self = identities[0]
    }

    /// SPIFFE trust domains: lowercase letters, digits, `.`, `-`, `_`; 1…255 characters.
    public static func isTrustDomain(_ text: some StringProtocol) -> Bool {
        (1...255).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The tenant and node name rule of the API (`[a-z0-9-]{1,63}`), repeated here so this
    /// module needs nothing but the certificate libraries.
    static func isName(_ text: some StringProtocol) -> Bool {
        (1...63).contains(text.utf8.count) && text.utf8.allSatisfy { $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }
    }
}

extension ClusterCA {
    /// The certificate of an enrolling agent: the CSR only proves that the agent holds the key
    /// (its signature must verify, its key must be P-256); everything the certificate says comes
    /// from `identity`, which the shard took from the join token and the request path. Usable as
    /// a TLS client only.
    public func issueAgentCertificate(
        csr: CertificateSigningRequest, identity: AgentIdentity, serial: [UInt8], now: Date, validity: TimeInterval
    ) throws(IdentityError) -> Certificate {
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw IdentityError("the CSR's signature does not verify with its own key")
        }
        guard P256.Signing.PublicKey(csr.publicKey) != nil else {
            throw IdentityError("the CSR's key must be ECDSA P-256")
        }
        let notAfter = min(now + validity, certificate.notValidAfter)
        do {
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: csr.publicKey,
                notValidBefore: now - Self.clockSkewAllowance, notValidAfter: notAfter,
                issuer: certificate.subject,
                subject: try DistinguishedName {
                    OrganizationName("FluxForge")
                    OrganizationalUnitName(identity.tenant)
                    CommonName(identity.node)
                },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.clientAuth])
                    SubjectAlternativeNames([.uniformResourceIdentifier(identity.uri)])
                    SubjectKeyIdentifier(hash: csr.publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
        } catch {
            throw IdentityError("the agent certificate could not be made: \(error)")
        }
    }
}

/// The agent's side of enrollment: the request it sends and the checks it makes on the answer
/// before it stores anything.
public enum Enrollment {
    /// A PEM CSR for `key`, naming the node it asks to be (the CA ignores the subject; it is there
    /// for the humans who read the request).
    public static func signingRequest(key: P256.Signing.PrivateKey, tenant: String, node: String) throws -> String {
        let request = try CertificateSigningRequest(
            version: .v1,
            subject: try DistinguishedName { OrganizationalUnitName(tenant); CommonName(node) },
            privateKey: Certificate.PrivateKey(key), attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }

    /// Checks an enrollment answer against what the agent knows on its own: the CA must have the
    /// pinned key (`caHash`, given out of band with the join token), the certificate must be
    /// signed by that CA, hold the agent's own key, be valid `now`, and name `tenant`/`node`.
    /// Returns the parsed pair.
    public static func verify(
        certificatePEM: String, caCertificatePEM: String, caHash: String,
        key: P256.Signing.PrivateKey, tenant: String, node: String, now: Date
    ) throws(IdentityError) -> (certificate: Certificate, ca: Certificate, identity: AgentIdentity) {
        let ca: Certificate, certificate: Certificate
        do {
            ca = try Certificate(pemEncoded: caCertificatePEM)
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw IdentityError("the cluster answered with a certificate that does not parse: \(error)")
        }
        guard ClusterCA.pin(of: ca) == caHash.lowercased() else {
            throw IdentityError("the cluster's CA has hash \(ClusterCA.pin(of: ca)), not the \(caHash) given with the join token: refusing to trust it")
        }
        guard ca.publicKey.isValidSignature(certificate.signature, for: certificate), certificate.issuer == ca.subject else {
            throw IdentityError("the issued certificate is not signed by the pinned CA")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw IdentityError("the issued certificate is for another key")
        }
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw IdentityError("the issued certificate is not valid now (\(certificate.notValidBefore) … \(certificate.notValidAfter))")
        }
        guard let identity = AgentIdentity(certificate: certificate), identity.tenant == tenant, identity.node == node else {
            throw IdentityError("the issued certificate does not name tenant \(tenant) node \(node)")
        }
        return (certificate, ca, identity)
    }
}

/// A router's identity in its certificate: `spiffe://<trust domain>/router/<name>` (issued with
/// `fluxforge ca issue --san spiffe://…/router/<name>`). A shard accepts a router's attestation
/// of an agent only from a peer whose certificate names a router.
public struct RouterIdentity: Sendable, Hashable {
    public var trustDomain: String
    public var name: String

    public init?(uri: String) {
        let scheme = "spiffe://"
        guard uri.hasPrefix(scheme) else { return nil }
        let parts = uri.dropFirst(scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "router", AgentIdentity.isTrustDomain(parts[0]), AgentIdentity.isName(parts[2]) else { return nil }
        trustDomain = String(parts[0])
        name = String(parts[2])
    }

    /// The router identity a certificate names in its URI SANs, if exactly one.
    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        let routers = names.compactMap { name -> RouterIdentity? in
            if case .uniformResourceIdentifier(let uri) = name { return RouterIdentity(uri: uri) }
            return nil
        }
        guard routers.count == 1 else { return nil }
        self = routers[0]
    }
}
