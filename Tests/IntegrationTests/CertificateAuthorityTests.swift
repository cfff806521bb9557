import FluxTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `fluxforge ca` end to end (issue 12): the files it writes, checked by OpenSSL, and a real
/// mutual-TLS handshake between two certificates it issued.
@Suite("Certificate authority", .serialized)
struct CertificateAuthorityTests {
    /// Runs a program to completion (bounded), returning its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String], input: String = "", timeout: TimeInterval = 20) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe(), stdin = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let deadline = Date() + timeout
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, output)
    }

    static func fluxforge(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try run(try FluxProcess.binary().path, arguments)
    }

    static let openssl = "/usr/bin/openssl"

    @Test func issuedCertificatesVerifyWithOpenSSLAndShakeHandsMutually() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-ca-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = directory.appendingPathComponent("ca").path, other = directory.appendingPathComponent("other").path
        typealias Run = (status: Int32, output: String)
        let (created, again, issued, badName) = try await offThePool { () throws -> (Run, Run, [Run], Run) in
            let created = try Self.fluxforge(["ca", "init", "--out", ca])
            let again = try Self.fluxforge(["ca", "init", "--out", ca])
            let issued = try ["shard-1", "router"].map { name in
                try Self.fluxforge(["ca", "issue", "--ca", ca, "--name", name, "--san", name, "--san", "127.0.0.1"])
            }
            let badName = try Self.fluxforge(["ca", "issue", "--ca", ca, "--name", "bad_name"])
            _ = try Self.fluxforge(["ca", "init", "--out", other])
            _ = try Self.fluxforge(["ca", "issue", "--ca", other, "--name", "intruder", "--san", "127.0.0.1"])
            return (created, again, issued, badName)
        }
        #expect(created.status == 0 && created.output.contains("pin       sha256:"), "\(created.output)")
        #expect(again.status != 0, "an existing CA was overwritten without --force")
        #expect(issued.allSatisfy { $0.status == 0 }, "\(issued)")
        #expect(badName.status != 0 && badName.output.contains("bad_name"), "\(badName.output)")
        for key in ["\(ca)/ca.key", "\(ca)/shard-1.key", "\(ca)/router.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) has mode \(String(mode ?? 0, radix: 8))")
        }

        // OpenSSL agrees: the chain verifies for TLS server and client use, not against another CA.
        let (server, client, foreign, text) = try await offThePool { () throws -> (Run, Run, Run, String) in
            (try Self.run(Self.openssl, ["verify", "-CAfile", "\(ca)/ca.crt", "-purpose", "sslserver", "\(ca)/shard-1.crt"]),
             try Self.run(Self.openssl, ["verify", "-CAfile", "\(ca)/ca.crt", "-purpose", "sslclient", "\(ca)/router.crt"]),
             try Self.run(Self.openssl, ["verify", "-CAfile", "\(other)/ca.crt", "\(ca)/shard-1.crt"]),
             try Self.run(Self.openssl, ["x509", "-in", "\(ca)/shard-1.crt", "-noout", "-text"]).output)
        }
        #expect(server.status == 0 && server.output.contains("OK"), "\(server.output)")
        #expect(client.status == 0, "\(client.output)")
        #expect(foreign.status != 0, "verified against another CA: \(foreign.output)")
        #expect(text.contains("DNS:shard-1") && text.contains("IP Address:127.0.0.1") && text.contains("prime256v1"), "\(text)")

        // A real handshake: the shard's certificate serves, the router's authenticates the client;
        // a client certificate from another CA is refused.
        let port = try RedisServerProcess.freeLoopbackPort()
        let tlsServer = Process()
        tlsServer.executableURL = URL(fileURLWithPath: Self.openssl)
        tlsServer.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", "\(ca)/shard-1.crt", "-key", "\(ca)/shard-1.key",
                            "-CAfile", "\(ca)/ca.crt", "-Verify", "1", "-verify_return_error", "-quiet"]
        tlsServer.standardOutput = FileHandle.nullDevice
        tlsServer.standardError = FileHandle.nullDevice
        try tlsServer.run()
        // SIGKILL: `openssl s_server` outlived SIGTERM (`terminate()`) and piled up across runs.
        defer {
            kill(tlsServer.processIdentifier, SIGKILL)
            tlsServer.waitUntilExit()
        }
        let (trusted, intruder) = try await offThePool { () throws -> (String, Run) in
            var attempt = (status: Int32(1), output: "")
            for _ in 0..<50 {
                attempt = try Self.run(Self.openssl, [
                    "s_client", "-connect", "127.0.0.1:\(port)", "-cert", "\(ca)/router.crt", "-key", "\(ca)/router.key",
                    "-CAfile", "\(ca)/ca.crt", "-verify_return_error", "-verify_hostname", "shard-1", "-brief",
                ], input: "hello\n", timeout: 10)
                if attempt.output.contains("Verification: OK") { break }
                usleep(100_000)
            }
            // In TLS 1.3 the client's side of the handshake completes before the server has
            // checked its certificate: keep reading (-ign_eof) until the server's alert arrives.
            let intruder = try Self.run(Self.openssl, [
                "s_client", "-connect", "127.0.0.1:\(port)", "-cert", "\(other)/intruder.crt", "-key", "\(other)/intruder.key",
                "-CAfile", "\(ca)/ca.crt", "-brief", "-ign_eof",
            ], input: "hello\n", timeout: 10)
            return (attempt.output, intruder)
        }
        #expect(trusted.contains("Verification: OK") && trusted.contains("TLSv1.3"), "\(trusted)")
        #expect(intruder.output.contains("alert"), "a client from another CA was let in: \(intruder.output)")
    }
}
