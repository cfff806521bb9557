public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a test sees of an HTTP answer.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error.code` of a JSON problem body, if it is one.
    public var errorCode: String? { errorObject?["code"] as? String }
    /// The `error.field` of a JSON problem body, if any.
    public var errorField: String? { errorObject?["field"] as? String }

    private var errorObject: [String: Any]? {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any]
    }
}

extension FluxEndpoint {
    /// One HTTP call to the endpoint's API on loopback.
    public func request(
        _ method: String, _ path: String, token: String? = nil, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> TestHTTPResponse {
        try await httpRequest(method, baseURL + path, token: token, body: body, headers: headers)
    }

    /// One HTTP call with a JSON-encoded body.
    public func request<T: Encodable>(_ method: String, _ path: String, token: String? = nil, json: T, headers: [String: String] = [:]) async throws -> TestHTTPResponse {
        try await request(method, path, token: token, body: try JSONEncoder().encode(json), headers: headers)
    }
}

/// One plain HTTP call to `url` (on loopback).
public func httpRequest(
    _ method: String, _ url: String, token: String? = nil, body: Data? = nil, headers: [String: String] = [:]
) async throws -> TestHTTPResponse {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 10
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if let body {
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    var fields: [String: String] = [:]
    for (name, value) in http?.allHeaderFields ?? [:] { fields[String(describing: name).lowercased()] = String(describing: value) }
    return TestHTTPResponse(status: http?.statusCode ?? 0, headers: fields, body: data)
}
