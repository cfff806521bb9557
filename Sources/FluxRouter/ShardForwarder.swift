import AsyncHTTPClient
import FluxRuntime
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends one HTTP call to one shard over a pooled keep-alive connection (async-http-client) and
/// brings the answer back as a Hummingbird response, or says how the call failed.
struct ShardForwarder: Sendable {
    /// A shard's answer, kept as bytes so the router can both relay and read it.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer

        var response: Response { Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
    }

    enum Outcome: Sendable {
        case answered(Answer)
        case failed(ForwardPolicy.Failure)
    }

    let client: HTTPClient
    let timeout: Duration
    /// Whether `client` presents the router's certificate (see `makeClient(shardTLS:)`).
    let hasClientCertificate: Bool
    /// Largest answer relayed (a list page of 1,000 tasks is far below it).
    static let maxResponseBytes = 16 << 20

    /// Hop-by-hop headers belong to one connection, not to the call (RFC 9110 §7.6.1); the body
    /// length is recomputed by each side.
    private static let connectionHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length",
    ]

    /// `shardTLS` is the router's certificate and the cluster CA, for shards whose member record
    /// publishes an `https://` API (`--api-mtls`); without it such shards cannot be called.
    static func makeClient(shardTLS: TLSConfiguration? = nil) -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // Fail at once when a shard refuses connections, instead of backing off inside the pool
        // until the call's deadline: the router has its own answer to a dead shard.
        pool.retryConnectionEstablishment = false
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(1)), connectionPool: pool, decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.tlsConfiguration = shardTLS
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    func forward(
        method: HTTPRequest.Method, to address: String, pathAndQuery: String, headers: HTTPFields, body: ByteBuffer
    ) async -> Outcome {
        // A shard publishes `https://host:port` when its API takes mutual TLS, `host:port` otherwise.
        let secure = address.hasPrefix("https://")
        // Without a certificate of the cluster CA the handshake cannot succeed: nothing is sent.
        if secure, !hasClientCertificate { return .failed(.notSent) }
        var request = HTTPClientRequest(url: secure ? address + pathAndQuery : "http://\(address)\(pathAndQuery)")
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers where !Self.connectionHeaders.contains(field.name.canonicalName) {
            request.headers.add(name: field.name.rawName, value: field.value)
        }
        if body.readableBytes > 0 { request.body = .bytes(body) }
        do {
            let answer = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let bytes = try await answer.body.collect(upTo: Self.maxResponseBytes)
            var fields = HTTPFields()
            for (name, value) in answer.headers where !Self.connectionHeaders.contains(name.lowercased()) {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return .answered(Answer(status: .init(code: Int(answer.status.code)), headers: fields, body: bytes))
        } catch {
            return .failed(Self.classify(error))
        }
    }

    /// Connect failures are the only ones known not to have delivered the request.
    static func classify(_ error: any Error) -> ForwardPolicy.Failure {
        switch error {
        case is NIOConnectionError:
            return .notSent
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return .notSent
        case ChannelError.connectTimeout:
            return .notSent
        case let error as HTTPClientError where error == .connectTimeout || error == .getConnectionFromPoolTimeout:
            return .notSent
        default:
            return .maybeSent
        }
    }
}
