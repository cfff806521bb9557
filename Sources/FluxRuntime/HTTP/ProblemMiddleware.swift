public import Hummingbird
import FluxAPI
import Foundation
import Logging

/// Outermost middleware: whatever a handler throws leaves as a JSON problem with a fitting
/// status. Decoding errors name the field; Hummingbird's own errors (unknown route, body too
/// large) keep their status; anything unexpected is logged and answered 500 `internal` — a bug
/// to fix, which tests look for.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as HTTPProblem {
            return try problem.response(from: request, context: context)
        } catch {
            let problem = Self.translate(error)
            if problem.status == .internalServerError {
                context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            }
            return try problem.response(from: request, context: context)
        }
    }

    static func translate(_ error: any Error) -> HTTPProblem {
        switch error {
        case let problem as APIProblem:
            return HTTPProblem(badRequest: problem)
        case let unknown as UnknownFieldError:
            return HTTPProblem(.badRequest, code: "unknown_field", message: "unknown field \(unknown.field)", field: unknown.field)
        case let decoding as DecodingError:
            return HTTPProblem(badRequest: DecodingProblem.describe(decoding))
        case let http as any HTTPResponseError:
            return translate(http: http)
        default:
            return HTTPProblem(.internalServerError, code: "internal", message: "internal error")
        }
    }

    private static func translate(http: any HTTPResponseError) -> HTTPProblem {
        switch http.status {
        case .contentTooLarge:
            return HTTPProblem(.contentTooLarge, code: "too_large", message: "request body too large")
        case .notFound:
            return HTTPProblem(.notFound, code: "route_not_found", message: "no such endpoint")
        case .methodNotAllowed:
            return HTTPProblem(.methodNotAllowed, code: "method_not_allowed", message: "method not allowed here")
        default:
            let code = http.status.code < 500 ? "bad_request" : "unavailable"
            return HTTPProblem(http.status, code: code, message: http.status.reasonPhrase)
        }
    }
}

/// Turns `DecodingError` into a problem that names the JSON field at fault.
enum DecodingProblem {
    static func describe(_ error: DecodingError) -> APIProblem {
        switch error {
        case .keyNotFound(let key, let context):
            return .missing(path(context.codingPath + [key]))
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return APIProblem(code: "invalid_field", message: "\(field): expected \(describe(type))", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return APIProblem(code: "invalid_field", message: "\(field): expected \(describe(type)), got null", field: field)
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            let field = path(context.codingPath)
            return APIProblem(code: "invalid_field", message: "\(field): \(context.debugDescription)", field: field)
        default:
            return APIProblem(code: "invalid_json", message: "request body is not valid JSON")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var result = ""
        for key in keys {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return result.isEmpty ? "body" : result
    }

    static func describeContainer(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") || name.hasPrefix("[") && !name.contains(":") { return "an array" }
        if name.hasPrefix("Dictionary") || name.contains(":") { return "an object" }
        return "an object"
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: describeContainer(type)
        }
    }
}
