public import Crypto
public import Foundation
public import X509
import SwiftASN1

/// The cluster's certificate authority: a self-signed ECDSA P-256 root that signs the
/// certificates of routers and shards (and, through enrollment, of agents).
///
/// Pure: the clock and the serial numbers are inputs, so the same inputs make the same
/// certificate (up to the ECDSA signature's randomness). Reading and writing files is the CLI's
/// job (`fluxforge ca`). Built on swift-certificates, so no ASN.1 is written by hand here.
public struct ClusterCA: Sendable {
    public let key: P256.Signing.PrivateKey
    public let certificate: Certificate

    /// Certificates are valid from this long before they are made, so a peer whose clock is a
    /// little behind does not refuse a fresh one.
    public static let clockSkewAllowance: TimeInterval = 300

    public init(key: P256.Signing.PrivateKey, certificate: Certificate) {
        self.key = key
        self.certificate = certificate
    }

    /// Loads a CA from its PEM files (`ca.key`, `ca.crt`); the key must match the certificate.
    public init(keyPEM: String, certificatePEM: String) throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let certificate = try Certificate(pemEncoded: certificatePEM)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw IdentityError("the CA key does not belong to the CA certificate")
        }
        self.init(key: key, certificate: certificate)
    }

    /// A new self-signed root.
    public static func create(
        commonName: String, key: P256.Signing.PrivateKey, serial: [UInt8], now: Date, validity: TimeInterval
    ) throws -> ClusterCA {
        let name = try DistinguishedName { OrganizationName("FluxForge"); CommonName(commonName) }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: publicKey,
            notValidBefore: now - clockSkewAllowance, notValidAfter: now + validity,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return ClusterCA(key: key, certificate: certificate)
    }

    /// A leaf certificate for `subject`'s key, signed by this CA: usable as a TLS server and as a
    /// TLS client (routers and shards authenticate each other both ways).
    public func issue(
        _ subject: LeafSubject, publicKey: P256.Signing.PublicKey, serial: [UInt8], now: Date, validity: TimeInterval
    ) throws -> Certificate {
        let leafKey = Certificate.PublicKey(publicKey)
        let notAfter = min(now + validity, certificate.notValidAfter)
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: leafKey,
            notValidBefore: now - Self.clockSkewAllowance, notValidAfter: notAfter,
            issuer: certificate.subject, subject: try DistinguishedName { OrganizationName("FluxForge"); CommonName(subject.commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(subject.names)
                SubjectKeyIdentifier(hash: leafKey)
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// `sha256:<hex>` of the CA's SubjectPublicKeyInfo (DER): what an agent is given with its join
    /// token to pin this CA before it trusts anything the cluster says (as kubeadm's discovery
    /// token CA cert hash).
    public var pin: String { Self.pin(of: certificate) }

    public static func pin(of certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        // Serializing a public key into a fresh serializer cannot fail.
        try! serializer.serialize(certificate.publicKey)
        return "sha256:" + hex(Array(SHA256.hash(data: serializer.serializedBytes)))
    }

    /// Lowercase hex, two digits a byte: how pins and certificate serials are written.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// A random serial number: 16 bytes, the high bit clear so it stays a positive integer.
    public static func randomSerial<G: RandomNumberGenerator>(using generator: inout G) -> [UInt8] {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = bytes[0] & 0x7F | 0x01
        return bytes
    }
}

/// Who a leaf certificate names: a common name and its subject alternative names, parsed from
/// `--san` values (an IPv4 or IPv6 address, a URI such as `spiffe://…`, or a DNS name).
public struct LeafSubject: Sendable, Hashable {
    public var commonName: String
    public var names: [GeneralName]

    public init(commonName: String, sans: [String]) throws(IdentityError) {
        guard Self.isDNSName(commonName) else {
            throw IdentityError("name \(commonName) must be a DNS-style name: [A-Za-z0-9.-], 1…253 characters")
        }
        self.commonName = commonName
        var names: [GeneralName] = []
        for san in sans.isEmpty ? [commonName] : sans {
            if let address = Self.ipAddress(san) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: address[...])))
            } else if san.contains("://") {
                guard let url = URL(string: san), url.scheme != nil, san.utf8.count <= 2_048 else {
                    throw IdentityError("--san \(san) is not a valid URI")
                }
                names.append(.uniformResourceIdentifier(san))
            } else if Self.isDNSName(san) {
                names.append(.dnsName(san))
            } else {
                throw IdentityError("--san \(san) is neither an IP address, a URI nor a DNS name")
            }
        }
        self.names = names
    }

    static func isDNSName(_ name: String) -> Bool {
        (1...253).contains(name.utf8.count) && !name.hasPrefix(".") && !name.hasSuffix(".") && !name.contains("..")
            && name.utf8.allSatisfy { $0 == 0x2D || $0 == 0x2E || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The network-order bytes of an IPv4 or IPv6 address, or nil.
    static func ipAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// A certificate that cannot be made or read, with what to do about it.
public struct IdentityError: Error, CustomStringConvertible, Sendable, Hashable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
