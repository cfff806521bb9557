import ArgumentParser
import Crypto
import FluxIdentity
import Foundation
import X509

/// `fluxforge ca`: the cluster's certificate authority on disk (docs/security.md#agent-identity).
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Create the cluster CA and issue router and shard certificates.",
        subcommands: [CAInitCommand.self, CAIssueCommand.self])
}

/// `fluxforge ca init --out DIR`: a new ECDSA P-256 root, `DIR/ca.key` (mode 0600) and `DIR/ca.crt`.
struct CAInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a new cluster CA (ECDSA P-256).")

    @Option(help: "Directory for ca.key (mode 0600) and ca.crt.")
    var out: String
    @Option(help: "The CA's common name.")
    var commonName = "FluxForge cluster CA"
    @Option(help: "Days the CA is valid.")
    var days = 3_650
    @Flag(help: "Replace an existing CA in that directory (every certificate it issued stops being trusted).")
    var force = false

    func validate() throws {
        guard (1...36_500).contains(days) else { throw ValidationError("--days must be within 1…36500") }
        guard (1...64).contains(commonName.count) else { throw ValidationError("--common-name must be 1…64 characters") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out)
        let keyFile = directory.appendingPathComponent("ca.key"), certificateFile = directory.appendingPathComponent("ca.crt")
        try CAFiles.refuseOverwrite([keyFile, certificateFile], force: force)
        var random = SystemRandomNumberGenerator()
        let ca = try ClusterCA.create(
            commonName: commonName, key: P256.Signing.PrivateKey(), serial: ClusterCA.randomSerial(using: &random),
            now: Date(), validity: TimeInterval(days) * 86_400)
        try CAFiles.write(ca.key.pemRepresentation, to: keyFile, secret: true)
        try CAFiles.write(try ca.certificate.serializeAsPEM().pemString, to: certificateFile, secret: false)
        print("""
            cluster CA created: \(certificateFile.path) (key \(keyFile.path), mode 0600)
              subject   \(ca.certificate.subject)
              valid to  \(ca.certificate.notValidAfter)
              pin       \(ca.pin)
            Give agents the pin with their join token; keep ca.key off every machine but the one that issues.
            """)
    }
}

/// `fluxforge ca issue --ca DIR --name NAME --san …`: a router or shard certificate and key.
struct CAIssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Issue a router or shard certificate signed by the cluster CA.")

    @Option(help: "Directory holding ca.key and ca.crt.")
    var ca: String
    @Option(help: "The certificate's common name (a DNS-style name, e.g. shard-1).")
    var name: String
    @Option(help: "Subject alternative name: a DNS name, an IP address or a URI (repeatable; default: the name).")
    var san: [String] = []
    @Option(help: "Days the certificate is valid (never beyond the CA).")
    var days = 365
    @Option(help: "Directory for NAME.key (mode 0600) and NAME.crt (default: the CA directory).")
    var out: String?
    @Flag(help: "Replace existing files.")
    var force = false

    func validate() throws {
        guard (1...3_650).contains(days) else { throw ValidationError("--days must be within 1…3650") }
        guard san.count <= 64 else { throw ValidationError("at most 64 --san") }
    }

    func run() throws {
        let authority = try ClusterCA(directory: ca)
        let subject = try LeafSubject(commonName: name, sans: san)
        let directory = URL(fileURLWithPath: out ?? ca)
        let keyFile = directory.appendingPathComponent("\(name).key"), certificateFile = directory.appendingPathComponent("\(name).crt")
        try CAFiles.refuseOverwrite([keyFile, certificateFile], force: force)
        let key = P256.Signing.PrivateKey()
        var random = SystemRandomNumberGenerator()
        let certificate = try authority.issue(
            subject, publicKey: key.publicKey, serial: ClusterCA.randomSerial(using: &random), now: Date(),
            validity: TimeInterval(days) * 86_400)
        try CAFiles.write(key.pemRepresentation, to: keyFile, secret: true)
        try CAFiles.write(try certificate.serializeAsPEM().pemString, to: certificateFile, secret: false)
        print("""
            issued \(certificateFile.path) (key \(keyFile.path), mode 0600)
              subject   \(certificate.subject)
              names     \(subject.names.map { "\($0)" }.joined(separator: ", "))
              valid to  \(certificate.notValidAfter)
              serial    \(certificate.serialNumber)
            """)
    }
}

enum CAFiles {
    static func refuseOverwrite(_ files: [URL], force: Bool) throws {
        guard !force else { return }
        for file in files where FileManager.default.fileExists(atPath: file.path) {
            throw ValidationError("\(file.path) exists; pass --force to replace it")
        }
    }

    /// Writes `text`; a secret is created with mode 0600 before any byte of it is written.
    static func write(_ text: String, to file: URL, secret: Bool) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: secret ? 0o600 : 0o644])
        try FileManager.default.setAttributes([.posixPermissions: secret ? 0o600 : 0o644], ofItemAtPath: file.path)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
    }
}
