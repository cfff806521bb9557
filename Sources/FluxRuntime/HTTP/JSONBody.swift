public import Hummingbird
import Foundation

/// Reads and decodes a JSON request body with a per-route size limit (`413 too_large` beyond it).
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer = try await collect(&request, limit: limit)
        guard buffer.readableBytes > 0 else {
            throw HTTPProblem(.badRequest, code: "invalid_json", message: "request body is empty; expected a JSON object")
        }
        return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
    }

    /// The whole request body, at most `limit` bytes (`413 too_large` beyond it).
    public static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw HTTPProblem.tooLarge(limit: limit)
        }
    }

    /// Encodes `value` as a JSON response with the given status.
    public static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
