public import AsyncHTTPClient
public import FluxAPI
public import Foundation
import NIOCore
import NIOFoundationCompat
public import NIOHTTP1
import NIOSSL

/// A caller of FluxForge's HTTP API (the router's, docs/api/openapi.yaml): JSON in and out, an
/// API error turned into `APIError`, event streams read as they come. What the CLI and the tests
/// speak to a cluster with; it holds no state of its own beyond the connection pool.
public struct APIClient: Sendable {
    public let baseURL: String
    public let token: String?
    let http: HTTPClient
    let timeout: Duration

    /// `caFile`: PEM certificates to trust for an `https://` URL (the cluster CA, as `cluster/up`
    /// writes it); nil trusts the system's roots.
    public static func makeHTTPClient(caFile: String?) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            configuration.tlsConfiguration = tls
        }
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public init(baseURL: String, token: String?, http: HTTPClient, timeout: Duration = .seconds(30)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.http = http
        self.timeout = timeout
    }

    /// One call; a non-2xx answer throws `APIError` with the server's code and message.
    public func call(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> APIResponse {
        var request = self.request(method, path, headers: headers)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        }
        let response = try await http.execute(request, timeout: .milliseconds(timeout.milliseconds))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let answer = APIResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
        guard (200..<300).contains(answer.status) else { throw APIError(answer) }
        return answer
    }

    /// A call whose JSON answer decodes as `T`.
    public func decode<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<Int>.none) async throws -> T {
        let body = try json.map { try JSONEncoder().encode($0) }
        let answer = try await call(method, path, body: body)
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw APIError(status: answer.status, code: "unexpected_answer", message: "the server's answer is not a \(T.self): \(error)")
        }
    }

    /// The events of a `text/event-stream` endpoint, as they arrive, until the server ends the
    /// stream (or the caller stops iterating). A non-2xx answer throws `APIError` at once.
    public func events(_ path: String, lastEventID: String? = nil) async throws -> AsyncThrowingStream<ServerSentEvent, any Error> {
        var headers = ["Accept": "text/event-stream"]
        if let lastEventID { headers["Last-Event-ID"] = lastEventID }
        let request = self.request(.GET, path, headers: headers)
        // A stream may stay quiet for long; the server writes a keep-alive every 15 s.
        let response = try await http.execute(request, timeout: .hours(24))
        guard (200..<300).contains(Int(response.status.code)) else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw APIError(APIResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes)))
        }
        let (stream, continuation) = AsyncThrowingStream<ServerSentEvent, any Error>.makeStream()
        let reader = Task {
            var parser = ServerSentEventParser()
            do {
                for try await chunk in response.body {
                    for event in parser.feed(chunk.readableBytesView) { continuation.yield(event) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }

    private func request(_ method: HTTPMethod, _ path: String, headers: [String: String]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }
}

/// What came back from one call.
public struct APIResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
}

/// A refusal from the API (`{"error": {"code", "message", "field"}}`), or a failure to reach it
/// in a shape the caller can print the same way.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?
    /// `Retry-After` in seconds, when the server said when to come back.
    public var retryAfter: Int?

    public init(status: Int, code: String, message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    init(_ response: APIResponse) {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
        if let problem = try? JSONDecoder().decode(APIProblemBody.self, from: response.body) {
            self.init(status: response.status, code: problem.error.code, message: problem.error.message, field: problem.error.field, retryAfter: retryAfter)
        } else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            self.init(status: response.status, code: "http_\(response.status)", message: text.isEmpty ? "no body" : text, retryAfter: retryAfter)
        }
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let field { text += " (field \(field))" }
        if let retryAfter { text += "; retry after \(retryAfter) s" }
        return text
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
