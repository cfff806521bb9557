public import Foundation

/// The parts of Prometheus's HTTP API (`/api/v1/…`) tests read, decoded into plain values.
extension PrometheusServerProcess {
    /// One series of an instant vector: its labels (`__name__` included when kept) and value.
    public struct Sample: Sendable, CustomStringConvertible {
        public var labels: [String: String]
        public var value: Double
        public var description: String { "\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) \(value)" }
    }

    /// A loaded rule: its name, its PromQL, and `health` (`ok`, `err`, `unknown` before its first evaluation).
    public struct Rule: Sendable, Decodable {
        public var name: String
        public var query: String
        public var health: String
        public var type: String
        public var lastError: String?
    }

    /// A rule group as loaded from a rule file.
    public struct RuleGroup: Sendable, Decodable {
        public var name: String
        public var file: String
        public var rules: [Rule]
    }

    /// An active (pending or firing) alert.
    public struct Alert: Sendable, Decodable {
        public var labels: [String: String]
        public var state: String
    }

    /// Evaluates `expression` now (`/api/v1/query`); an instant vector's series.
    public func query(_ expression: String) async throws -> [Sample] {
        let data = try await get("/api/v1/query", ["query": expression], as: VectorData.self)
        return data.result.map { Sample(labels: $0.metric, value: Double($0.value.text) ?? .nan) }
    }

    /// Throws Prometheus's own error if it refuses `expression` (bad syntax, unknown function, …).
    public func check(_ expression: String) async throws {
        _ = try await get("/api/v1/query", ["query": expression], as: IgnoredData.self)
    }

    public func ruleGroups() async throws -> [RuleGroup] {
        try await get("/api/v1/rules", [:], as: RuleGroups.self).groups
    }

    public func alerts() async throws -> [Alert] {
        try await get("/api/v1/alerts", [:], as: Alerts.self).alerts
    }

    /// Every metric name the server holds a series of (`/api/v1/label/__name__/values`).
    public func metricNames() async throws -> Set<String> {
        Set(try await get("/api/v1/label/__name__/values", [:], as: [String].self))
    }

    /// GET `path` and decode the `data` of a `success` answer; anything else throws with the body.
    private func get<T: Decodable>(_ path: String, _ parameters: [String: String], as type: T.Type) async throws -> T {
        var components = URLComponents(string: baseURL + path)!
        if !parameters.isEmpty {
            components.queryItems = parameters.map { URLQueryItem(name: $0.key, value: $0.value) }
            // Go reads `+` in a query as a space: send it encoded.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        let answer = try await httpRequest("GET", components.url!.absoluteString)
        guard answer.status == 200, let envelope = try? JSONDecoder().decode(Envelope<T>.self, from: answer.body),
              envelope.status == "success", let data = envelope.data
        else { throw HarnessError("prometheus \(path) \(parameters) answered \(answer.status): \(answer.text)") }
        return data
    }

    private struct Envelope<T: Decodable>: Decodable {
        var status: String
        var data: T?
    }

    private struct VectorData: Decodable {
        var result: [VectorSample]
    }

    private struct VectorSample: Decodable {
        var metric: [String: String]
        var value: TimestampedValue
    }

    /// `[<unix time>, "<value>"]`.
    private struct TimestampedValue: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            _ = try container.decode(Double.self)
            text = try container.decode(String.self)
        }
    }

    private struct IgnoredData: Decodable {}

    private struct RuleGroups: Decodable {
        var groups: [RuleGroup]
    }

    private struct Alerts: Decodable {
        var alerts: [Alert]
    }
}
