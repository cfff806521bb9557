public import FluxIdentity
public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore
public import NIOSSL
import Foundation
import X509

/// The request context of the router's agent listener. It keeps the connection's channel so the
/// relay can ask the TLS layer which certificate the agent presented.
public struct AgentConnectionContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// TLS on the agent listener (issue 12, docs/security.md#agent-identity): TLS 1.3, and a client
/// certificate from the cluster CA required during the handshake, so a connection without one
/// (a stolen agent token alone) never reaches the WebSocket layer.
public enum AgentTLS {
    public static func serverConfiguration(_ files: AgentTLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        let roots = try NIOSSLCertificate.fromPEMFile(files.clientCA)
        guard !chain.isEmpty, !roots.isEmpty else {
            throw IdentityError("no certificate in \(chain.isEmpty ? files.certificate : files.clientCA)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv13
        // On a server, any verification mode but .none requires the client's certificate.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates(roots)
        return configuration
    }

    /// The router's side of its connection to a shard's TLS agent listener: its own certificate
    /// as the client certificate, the cluster CA as the only root. The shard's name is not
    /// checked (shards are reached by address; any certificate of the cluster CA is a cluster
    /// component), so the SNI is a fixed name rather than the address.
    public static func shardClientConfiguration(_ files: AgentTLSFiles) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(files.clientCA))
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))
        configuration.certificateVerification = .noHostnameVerification
        return configuration
    }

    /// The SNI a router sends to shards (see `shardClientConfiguration`).
    public static let shardServerName = "fluxforge-shard"

    /// TLS on the tenant API (`--tls-cert`, `--tls-key`): TLS 1.2 or later, no client
    /// certificate (clients authenticate with bearer tokens, now off the wire).
    public static func apiServerConfiguration(_ files: APITLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        guard !chain.isEmpty else { throw IdentityError("no certificate in \(files.certificate)") }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// Who the connection's verified client certificate says it is.
    public enum Peer: Sendable, Equatable {
        /// No TLS on this listener (dev mode: the agent token decides).
        case plaintext
        /// The identity and the certificate's serial number (lowercase hex, as enrollment records it).
        case agent(AgentIdentity, serial: String)
        /// A router (`spiffe://<domain>/router/<name>`): it relays agents and vouches for them.
        case router(RouterIdentity)
        /// A certificate of the CA that names no agent and no router (a shard's, for instance).
        case unnamed
    }

    public static func peer(of channel: any Channel) async -> Peer {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return .plaintext }
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return .unnamed }
        if let identity = AgentIdentity(certificate: parsed) {
            return .agent(identity, serial: ClusterCA.hex(parsed.serialNumber.bytes))
        }
        if let router = RouterIdentity(certificate: parsed) { return .router(router) }
        return .unnamed
    }
}
