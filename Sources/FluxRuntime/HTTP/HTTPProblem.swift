public import FluxAPI
public import Hummingbird
public import FluxRedis
import Foundation

/// An `APIProblem` on its way to the client with the HTTP status that fits its code.
///
/// Handlers throw these; `ProblemMiddleware` turns every other error into one too, so the client
/// always receives `{"error": {"code", "message", "field"}}` and never an HTML page or a bare 500.
public struct HTTPProblem: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let problem: APIProblem
    /// Extra response headers (`Retry-After` on a 429).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ problem: APIProblem) {
        self.status = status
        self.problem = problem
    }

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.init(status, APIProblem(code: code, message: message, field: field))
    }

    /// A validation problem from FluxAPI: always a 400.
    public init(badRequest problem: APIProblem) {
        self.init(.badRequest, problem)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = (try? JSONEncoder().encode(APIProblemBody(error: problem))) ?? Data("{}".utf8)
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPProblem {
    public static func unauthorized(_ message: String = "missing or invalid bearer token") -> HTTPProblem {
        HTTPProblem(.unauthorized, code: "unauthorized", message: message)
    }
    public static func forbidden(_ message: String) -> HTTPProblem {
        HTTPProblem(.forbidden, code: "forbidden", message: message)
    }
    public static func notFound(_ what: String) -> HTTPProblem {
        HTTPProblem(.notFound, code: "not_found", message: "\(what) not found")
    }
    public static func tooLarge(limit: Int) -> HTTPProblem {
        HTTPProblem(.contentTooLarge, code: "too_large", message: "request body exceeds \(limit) bytes")
    }
    public static func unavailable(_ code: String, _ message: String) -> HTTPProblem {
        HTTPProblem(.serviceUnavailable, code: code, message: message)
    }
    public static func conflict(_ code: String, _ message: String) -> HTTPProblem {
        HTTPProblem(.conflict, code: code, message: message)
    }
    /// A 429 whose `Retry-After` is `retryAfterMs` in whole seconds, rounded up, at least 1.
    public static func tooManyRequests(_ code: String, _ message: String, retryAfterMs: Int64) -> HTTPProblem {
        var problem = HTTPProblem(.tooManyRequests, code: code, message: message)
        problem.headers[.retryAfter] = String(max(1, (retryAfterMs + 999) / 1_000))
        return problem
    }
}

extension HTTPProblem {
    /// The answer to a Redis failure on a request path. Only a failed connection is an outage
    /// (the caller then goes READ_ONLY); a timeout or an error reply fails this request alone, so
    /// no tenant's request (a huge listing, a damaged record) can take the shard down for all.
    public static func store(_ error: RedisError) -> HTTPProblem {
        if error.isConnectionFailure {
            return .unavailable("redis_unavailable", "the coordination store is unreachable; retry later")
        }
        if error.serverErrorPrefix == "NOTREPLICATED" {
            return .unavailable(
                "not_replicated",
                "written, but no Redis replica confirmed it in time (--redis-ack replica): it may not survive a failover; "
                    + "retry with the same idempotency key, which finds it if it survived")
        }
        if error.serverErrorPrefix == "OOM" {
            return .unavailable("store_full", "the coordination store is full and refuses writes; retry later")
        }
        return .unavailable("store_error", "the coordination store could not answer this request (\(error.code)); retry later")
    }

    /// Runs a Redis-backed step of a request: a `RedisError` leaves as `store(_:)`, and a failed
    /// connection is first reported to `onOutage` (the shard goes READ_ONLY on it).
    public static func mappingStoreErrors<T>(
        onOutage: (RedisError) -> Void = { _ in }, _ operation: () async throws -> T
    ) async throws -> T {
        do {
            return try await operation()
        } catch let error as RedisError {
            if error.isConnectionFailure { onOutage(error) }
            throw store(error)
        }
    }
}
