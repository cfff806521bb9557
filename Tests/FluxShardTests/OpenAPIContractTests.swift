import FluxRedis
import Foundation
import Hummingbird
import Logging
import Testing

@testable import FluxShard

/// docs/api/openapi.yaml and the routes the shard really serves must name the same operations.
@Suite("OpenAPI contract")
struct OpenAPIContractTests {
    /// `METHOD /path` for every operation in the spec (a line-based read of our own YAML layout:
    /// paths at two spaces of indent, methods at four), but those marked `x-router-only: true`
    /// (the dashboard's files, which only the router serves).
    static func specOperations() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/api/openapi.yaml"), encoding: .utf8)
        var operations: Set<String> = []
        var routerOnly: Set<String> = []
        var path: String?
        var operation: String?
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
                operation = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "delete", "patch"].contains(String(method)) {
                    operation = "\(method.uppercased()) \(path)"
                    operations.insert(operation!)
                }
            } else if let operation, line.trimmingCharacters(in: .whitespaces) == "x-router-only: true" {
                routerOnly.insert(operation)
            }
        }
        return operations.subtracting(routerOnly)
    }

    static func serverOperations() throws -> Set<String> {
        let configuration = ShardConfiguration(shardID: "contract", redisURL: "redis://127.0.0.1:1/0", adminToken: "x")
        let redis = RedisClient(configuration: try RedisConfiguration(url: configuration.redisURL))
        let services = ShardApp.services(configuration: configuration, redis: redis, probeRedis: redis, logger: Logger(label: "test"))
        return Set(ShardRouter.api(services).routes.map { route in
            let path = route.path.description.hasPrefix("/") ? route.path.description : "/" + route.path.description
            return "\(route.method.rawValue) \(path)"
        })
    }

    @Test func everyServedRouteIsSpecifiedAndEverySpecifiedRouteIsServed() throws {
        let spec = try Self.specOperations()
        let served = try Self.serverOperations()
        #expect(spec.count >= 10, "the spec parser found too little: \(spec)")
        #expect(served.subtracting(spec).isEmpty, "served but not in docs/api/openapi.yaml: \(served.subtracting(spec).sorted())")
        #expect(spec.subtracting(served).isEmpty, "specified but not served: \(spec.subtracting(served).sorted())")
    }
}
