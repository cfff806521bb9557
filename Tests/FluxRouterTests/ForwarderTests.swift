@testable import FluxRouter
import Foundation
import Hummingbird
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// How the router's HTTP client failures are classified decides whether a batch may be written
/// again: only a refused connection proves the shard never saw it.
@Suite("Shard forwarder")
struct ForwarderTests {
    @Test func aRefusedConnectionIsKnownNotToHaveDeliveredTheCall() async throws {
        let client = ShardForwarder.makeClient()
        let forwarder = ShardForwarder(client: client, timeout: .seconds(5), hasClientCertificate: false)
        let port = try Self.closedLoopbackPort()
        let outcome = await forwarder.forward(
            method: .post, to: "127.0.0.1:\(port)", pathAndQuery: "/v1/tenants/acme/tasks:batch", headers: [:],
            body: ByteBuffer(string: "{}"))
        try await client.shutdown()
        guard case .failed(let failure) = outcome else { Issue.record("answered: \(outcome)"); return }
        #expect(failure == .notSent)
    }

    @Test func aShardThatDiesAfterReadingTheCallMayHaveActedOnIt() async throws {
        // A listener that reads the request and closes without answering: a shard killed mid-call.
        let listener = try Self.listeningSocket()
        defer { close(listener.fd) }
        let server = Thread {
            let connection = accept(listener.fd, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 4_096)
            _ = recv(connection, &buffer, buffer.count, 0)
            close(connection)
        }
        server.start()
        let client = ShardForwarder.makeClient()
        let forwarder = ShardForwarder(client: client, timeout: .seconds(5), hasClientCertificate: false)
        let outcome = await forwarder.forward(
            method: .post, to: "127.0.0.1:\(listener.port)", pathAndQuery: "/v1/tenants/acme/tasks:batch", headers: [:],
            body: ByteBuffer(string: "{}"))
        try await client.shutdown()
        guard case .failed(let failure) = outcome else { Issue.record("answered: \(outcome)"); return }
        #expect(failure == .maybeSent)
    }

    static func listeningSocket() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 4) == 0 else { throw ForwarderTestError() }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port on 127.0.0.1 that was just bound and released, so nothing listens on it.
    static func closedLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw ForwarderTestError() }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct ForwarderTestError: Error {}
