import AsyncHTTPClient
public import FluxAPI
public import FluxIdentity
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import X509

/// How an agent obtains its identity (issue 12, docs/security.md#agent-identity): it makes its
/// own key (which never leaves the device), sends a CSR with the join token, checks the answer
/// against the CA pin it was given out of band, and keeps key and certificate in its state
/// directory, mode 0600. A later start finds them there and does not enroll again.
public enum AgentEnrollment {
    /// What the state directory holds once enrolled.
    public struct Files: Sendable {
        public let directory: URL
        public init(directory: URL) { self.directory = directory }
        public var key: URL { directory.appendingPathComponent("agent.key") }
        public var certificate: URL { directory.appendingPathComponent("agent.crt") }
        public var ca: URL { directory.appendingPathComponent("ca.crt") }
    }

    /// An identity stored by an earlier enrollment, if it is still usable for `tenant`/`node`:
    /// the certificate parses, names them, holds the stored key, and is valid `now`.
    public static func stored(in files: Files, tenant: String, node: String, now: Date) -> AgentIdentity? {
        guard let keyPEM = try? String(contentsOf: files.key, encoding: .utf8),
              let certificatePEM = try? String(contentsOf: files.certificate, encoding: .utf8),
              let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM),
              let certificate = try? Certificate(pemEncoded: certificatePEM),
              certificate.publicKey == Certificate.PublicKey(key.publicKey),
              certificate.notValidBefore <= now, now < certificate.notValidAfter,
              let identity = AgentIdentity(certificate: certificate), identity.tenant == tenant, identity.node == node
        else { return nil }
        return identity
    }

    /// Enrolls `tenant`/`node` at `joinURL` (the router's base URL) and stores the result.
    /// Throws `EnrollmentError` with what the cluster said, or what did not check out.
    public static func enroll(
        joinURL: String, token: String, caHash: String, tenant: String, node: String, files: Files, logger: Logger
    ) async throws -> EnrollmentIssued {
        let key = P256.Signing.PrivateKey()
        let csr = try Enrollment.signingRequest(key: key, tenant: tenant, node: node)
        let base = joinURL.hasSuffix("/") ? String(joinURL.dropLast()) : joinURL
        var tls: TLSConfiguration?
        if base.hasPrefix("https://") {
            // As kubeadm's join: fetch the cluster CA without trusting anyone, accept it only if
            // its key has the pinned hash, and only then send the token, over TLS to that CA.
            let caPEM = try await fetchPinnedCA(base: base, caHash: caHash)
            var pinned = TLSConfiguration.makeClientConfiguration()
            pinned.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)])
            // The only root is the cluster's own CA, which signs nothing but cluster components.
            pinned.certificateVerification = .noHostnameVerification
            tls = pinned
        }
        var request = HTTPClientRequest(url: "\(base)/v1/tenants/\(tenant)/nodes/\(node)/enroll")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(EnrollmentRequest(csr: csr))))
        let (status, body) = try await exchange(request, tls: tls, base: base)
        guard status == .created else {
            let problem = try? JSONDecoder().decode(APIProblemBody.self, from: body)
            throw EnrollmentError("enrollment refused (\(status.code) \(problem?.error.code ?? "unknown")): \(problem?.error.message ?? String(buffer: body).prefix(200).description)")
        }
        let issued: EnrollmentIssued
        do { issued = try JSONDecoder().decode(EnrollmentIssued.self, from: body) } catch {
            throw EnrollmentError("the cluster's enrollment answer does not parse: \(error)")
        }
        do {
            _ = try Enrollment.verify(
                certificatePEM: issued.certificate, caCertificatePEM: issued.caCertificate, caHash: caHash,
                key: key, tenant: tenant, node: node, now: Date())
        } catch {
            throw EnrollmentError(error.description)
        }
        try store(key: key, issued: issued, in: files)
        logger.notice("enrolled", metadata: [
            "identity": "\(issued.spiffeID)", "serial": "\(issued.serial)", "state": "\(files.directory.path)",
        ])
        return issued
    }

    /// `GET /v1/cluster/ca` without verifying the server (nothing is trusted yet), then the pin
    /// check; returns the CA's PEM. Nothing secret has been sent when this throws.
    static func fetchPinnedCA(base: String, caHash: String) async throws -> String {
        var open = TLSConfiguration.makeClientConfiguration()
        open.certificateVerification = .none
        let (status, body) = try await exchange(HTTPClientRequest(url: "\(base)/v1/cluster/ca"), tls: open, base: base)
        guard status == .ok, let view = try? JSONDecoder().decode(ClusterCAView.self, from: body),
              let certificate = try? Certificate(pemEncoded: view.certificate)
        else { throw EnrollmentError("\(base)/v1/cluster/ca did not answer with a CA certificate (\(status.code))") }
        guard ClusterCA.pin(of: certificate) == caHash.lowercased() else {
            throw EnrollmentError("the cluster's CA has hash \(ClusterCA.pin(of: certificate)), not the \(caHash) given with the join token: refusing to trust it (the token was not sent)")
        }
        return view.certificate
    }

    /// One request with its own client (enrollment happens once; no pool to keep).
    static func exchange(_ request: HTTPClientRequest, tls: TLSConfiguration?, base: String) async throws -> (HTTPResponseStatus, ByteBuffer) {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 256 * 1_024)
            try await client.shutdown()
            return (response.status, body)
        } catch {
            try? await client.shutdown()
            throw EnrollmentError("cannot reach \(base) to enroll: \(error)")
        }
    }

    /// Writes key, certificate and CA into a 0700 directory, each file 0600, each through a
    /// temporary file and a rename so a crash never leaves half a key.
    static func store(key: P256.Signing.PrivateKey, issued: EnrollmentIssued, in files: Files) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: files.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (text, target) in [(key.pemRepresentation, files.key), (issued.certificate, files.certificate), (issued.caCertificate, files.ca)] {
            let temporary = target.appendingPathExtension("tmp")
            try? manager.removeItem(at: temporary)
            guard manager.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw EnrollmentError("cannot write \(temporary.path)")
            }
            guard rename(temporary.path, target.path) == 0 else { throw EnrollmentError("cannot write \(target.path) (errno \(errno))") }
        }
    }
}

/// Enrollment did not produce an identity; the message says why and what to do.
public struct EnrollmentError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
