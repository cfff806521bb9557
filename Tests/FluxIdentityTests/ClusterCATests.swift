import Crypto
import FluxIdentity
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct ClusterCATests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let year: TimeInterval = 365 * 86_400

    static func key(_ byte: UInt8) throws -> P256.Signing.PrivateKey {
        try P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: byte, count: 31) + [1])
    }

    static func ca(_ byte: UInt8 = 7) throws -> ClusterCA {
        try ClusterCA.create(commonName: "test CA", key: try key(byte), serial: [1, 2, 3], now: now, validity: 10 * year)
    }

    static func validates(_ leaf: Certificate, against root: Certificate, at time: Date) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([root])) { RFC5280Policy(validationTime: time) }
        if case .validCertificate = await verifier.validate(leafCertificate: leaf, intermediates: CertificateStore()) { return true }
        return false
    }

    @Test func aLeafItIssuedValidatesUntilItExpiresAndOnlyAgainstItsCA() async throws {
        let ca = try Self.ca()
        let subject = try LeafSubject(commonName: "shard-1", sans: ["shard-1.example", "127.0.0.1", "::1", "spiffe://c1/shard/shard-1"])
        let leaf = try ca.issue(subject, publicKey: try Self.key(9).publicKey, serial: [4, 5], now: Self.now, validity: Self.year)
        #expect(await Self.validates(leaf, against: ca.certificate, at: Self.now + 60))
        #expect(await Self.validates(leaf, against: ca.certificate, at: Self.now - 60), "five minutes of clock skew are allowed")
        #expect(!(await Self.validates(leaf, against: ca.certificate, at: Self.now + Self.year + 60)), "expired")
        #expect(!(await Self.validates(leaf, against: try Self.ca(8).certificate, at: Self.now + 60)), "another CA")

        let names = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(Array(names) == [
            .dnsName("shard-1.example"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
            .uniformResourceIdentifier("spiffe://c1/shard/shard-1"),
        ])
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try leaf.extensions.extendedKeyUsage.map(Array.init) == [.serverAuth, .clientAuth])
        #expect(try leaf.extensions.authorityKeyIdentifier?.keyIdentifier == (try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier))
        #expect(try ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
    }

    @Test func aLeafNeverOutlivesItsCA() throws {
        let ca = try ClusterCA.create(commonName: "short", key: try Self.key(7), serial: [1], now: Self.now, validity: 86_400)
        let leaf = try ca.issue(try LeafSubject(commonName: "r", sans: []), publicKey: try Self.key(9).publicKey, serial: [2], now: Self.now, validity: Self.year)
        #expect(leaf.notValidAfter == ca.certificate.notValidAfter)
        #expect(Array(try #require(try leaf.extensions.subjectAlternativeNames)) == [.dnsName("r")], "the name is the default SAN")
    }

    @Test func thePinNamesTheCAKeyAndSurvivesAReissue() throws {
        let first = try Self.ca(7), reissued = try ClusterCA.create(commonName: "renewed", key: try Self.key(7), serial: [9], now: Self.now + 1_000, validity: Self.year)
        #expect(first.pin == reissued.pin)
        #expect(first.pin != (try Self.ca(8)).pin)
        #expect(first.pin.hasPrefix("sha256:") && first.pin.count == 7 + 64)
    }

    @Test func aCALoadsBackFromItsPEMFilesAndRefusesAForeignKey() throws {
        let ca = try Self.ca()
        let certificatePEM = try ca.certificate.serializeAsPEM().pemString
        let loaded = try ClusterCA(keyPEM: ca.key.pemRepresentation, certificatePEM: certificatePEM)
        #expect(loaded.certificate == ca.certificate && loaded.pin == ca.pin)
        #expect(throws: IdentityError.self) { try ClusterCA(keyPEM: try Self.key(8).pemRepresentation, certificatePEM: certificatePEM) }
    }

    @Test(arguments: [
        ("", []), ("shard_1", []), ("a..b", []), (String(repeating: "a", count: 254), []),
        ("shard-1", ["not a name"]), ("shard-1", ["ht tp://x"]), ("shard-1", ["10.0.0.1:80"]),
    ] as [(String, [String])])
    func badNamesAreRefusedWithAReason(name: String, sans: [String]) {
        #expect(throws: IdentityError.self) { try LeafSubject(commonName: name, sans: sans) }
    }
}
