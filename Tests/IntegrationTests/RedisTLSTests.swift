import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// Redis over TLS (issue 12): `rediss://` URLs, NIOSSL on the client's channel, a real
/// `redis-server` that listens with TLS only (Debian's build has it), certificates from the
/// cluster CA.
@Suite("Redis over TLS", .serialized)
struct RedisTLSTests {
    /// True when connecting with `configuration` and sending a PING fails.
    static func refused(_ configuration: RedisConfiguration) async -> Bool {
        do {
            let connection = try await RedisConnection.connect(configuration: configuration)
            defer { Task { await connection.close() } }
            _ = try await connection.send(RedisCommand("PING"))
            return false
        } catch {
            return true
        }
    }

    @Test func theWholeTaskPathRunsOnRedissAndNothingElseGetsIn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-rediss-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ca, other) = try await offThePool { () throws -> (String, String) in
            let ca = try EnrollmentTests.makeCA(in: directory).path, other = try EnrollmentTests.makeCA(in: directory, name: "other").path
            let issued = try CertificateAuthorityTests.fluxforge(["ca", "issue", "--ca", ca, "--name", "redis", "--san", "127.0.0.1"])
            guard issued.status == 0 else { throw HarnessError("ca issue: \(issued.output)") }
            return (ca, other)
        }
        let server = try await RedisServerProcess(tls: ("\(ca)/redis.crt", "\(ca)/redis.key", "\(ca)/ca.crt"))
        defer { server.stop() }
        #expect(server.url.hasPrefix("rediss://"))

        // The client speaks TLS and trusts only the CA it is given; plain RESP gets nowhere.
        let connection = try await RedisConnection.connect(configuration: server.configuration)
        #expect(try await connection.send(RedisCommand("PING")).string == "PONG")
        #expect(try await connection.send(RedisCommand("CONFIG", "GET", "port")).array?.last?.string == "0", "the server has a plain port")
        await connection.close()
        var untrusted = server.configuration
        untrusted.tlsCAFile = "\(other)/ca.crt"
        #expect(await Self.refused(untrusted), "a server whose certificate is from another CA was trusted")
        var plain = server.configuration
        plain.tls = false
        #expect(await Self.refused(plain), "plain RESP was answered on the TLS port")

        // A shard on rediss:// runs the task path end to end.
        let cluster = try await ShardHarness(redis: server.configuration)
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "echo over-rediss"]))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "over-rediss\n", "\(done)")
        let timeline = try await cluster.timeline(tenant: "acme", token: token, id: id)
        #expect(timeline.map(\.to).suffix(1) == ["SUCCEEDED"] && timeline.count >= 4, "\(timeline.map(\.to))")
    }
}
