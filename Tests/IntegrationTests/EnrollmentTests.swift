import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// Agent enrollment end to end (issue 12): join tokens created through the router, the real
/// `fluxforge enroll` binary making its key and CSR, shards signing with the cluster CA, and
/// OpenSSL checking what was stored.
@Suite("Enrollment", .serialized)
struct EnrollmentTests {
    typealias Run = (status: Int32, output: String)

    /// A fresh CA directory and its pin as `fluxforge ca init` prints it.
    static func makeCA(in directory: URL, name: String = "ca") throws -> (path: String, pin: String) {
        let path = directory.appendingPathComponent(name).path
        let created = try CertificateAuthorityTests.fluxforge(["ca", "init", "--out", path])
        let pin = created.output.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count == 2 && parts[0] == "pin" ? String(parts[1]) : nil
        }.first
        guard created.status == 0, let pin else { throw HarnessError("ca init failed: \(created.output)") }
        return (path, pin)
    }

    static func cluster(ca: String) async throws -> RouterHarness {
        try await RouterHarness(shardIDs: ["shard-a", "shard-b"], shardArguments: ["--ca", ca, "--trust-domain", "test.example"])
    }

    static func createJoinToken(_ cluster: RouterHarness, tenant: String, token: String, _ request: JoinTokenRequest) async throws -> JoinTokenCreated {
        let response = try await cluster.request("POST", "/v1/tenants/\(tenant)/join-tokens", token: token, json: request)
        guard response.status == 201 else { throw HarnessError("join token: \(response.status) \(response.text)") }
        return try JSONDecoder().decode(JoinTokenCreated.self, from: response.body)
    }

    static func enroll(_ cluster: RouterHarness, tenant: String, node: String, token: String, caHash: String, stateDir: String) throws -> Run {
        try CertificateAuthorityTests.fluxforge([
            "enroll", "--tenant", tenant, "--node", node, "--join", cluster.baseURL, "--join-token", token,
            "--ca-hash", caHash, "--state-dir", stateDir,
        ])
    }

    static func usesLeft(_ cluster: RouterHarness, tenant: String, token: String, id: String) async throws -> Int? {
        let list = try JSONDecoder().decode(JoinTokenList.self, from: try await cluster.request("GET", "/v1/tenants/\(tenant)/join-tokens", token: token).body)
        return list.tokens.first { $0.id == id }?.usesLeft
    }

    /// Every field value of the tenant's join-token hashes in Redis.
    static func storedJoinTokenValues(tenant: String, redis: RedisConfiguration) async throws -> [String] {
        let connection = try await RedisConnection.connect(configuration: redis)
        defer { Task { await connection.close() } }
        var values: [String] = []
        for key in try await connection.send(RedisCommand("KEYS", "*:t:\(tenant):join:*")).array?.compactMap(\.string) ?? [] {
            values += try await connection.send(RedisCommand("HGETALL", key)).array?.compactMap(\.string) ?? []
        }
        #expect(!values.isEmpty, "no join token hash found")
        return values
    }

    static func openssl(_ arguments: [String]) throws -> Run {
        try CertificateAuthorityTests.run(CertificateAuthorityTests.openssl, arguments)
    }

    @Test func anAgentEnrollsThroughTheRouterWithAPinnedCAAndEachUseIsSpentOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-enroll-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try await offThePool { try Self.makeCA(in: directory) }
        let cluster = try await Self.cluster(ca: ca.path)
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let join = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest(ttlSeconds: 600, maxUses: 2, nodePattern: "edge-*"))
        #expect(join.caHash == ca.pin && join.token.hasPrefix("ffj_") && join.maxUses == 2)
        let published = try JSONDecoder().decode(ClusterCAView.self, from: try await cluster.request("GET", "/v1/cluster/ca").body)
        #expect(published.caHash == ca.pin && published.trustDomain == "test.example")

        let state = (1...3).map { directory.appendingPathComponent("edge-\($0)").path }
        let first = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-1", token: join.token, caHash: ca.pin, stateDir: state[0]) }
        #expect(first.status == 0 && first.output.contains("spiffe://test.example/tenant/acme/node/edge-1"), "\(first.output)")
        // A second start with a valid stored identity does not enroll again (no use spent).
        let again = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-1", token: join.token, caHash: ca.pin, stateDir: state[0]) }
        #expect(again.status == 0 && again.output.contains("already enrolled"), "\(again.output)")
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == 1)
        let second = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-2", token: join.token, caHash: ca.pin, stateDir: state[1]) }
        #expect(second.status == 0, "\(second.output)")
        let third = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-3", token: join.token, caHash: ca.pin, stateDir: state[2]) }
        #expect(third.status != 0 && third.output.contains("join_token_used_up"), "\(third.output)")
        #expect(!FileManager.default.fileExists(atPath: state[2] + "/agent.key"), "a refused enrollment stored a key")

        // What edge-1 stored: 0600 files, a client certificate of this CA naming it, for its own key.
        for file in ["agent.key", "agent.crt", "ca.crt"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(state[0])/\(file)")[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        let certificate = "\(state[0])/agent.crt"
        let checks = try await offThePool { () throws -> [Run] in
            [
                try Self.openssl(["verify", "-CAfile", "\(ca.path)/ca.crt", "-purpose", "sslclient", certificate]),
                try Self.openssl(["verify", "-CAfile", "\(ca.path)/ca.crt", "-purpose", "sslserver", certificate]),
                try Self.openssl(["x509", "-in", certificate, "-noout", "-ext", "subjectAltName"]),
                try Self.openssl(["x509", "-in", certificate, "-noout", "-pubkey"]),
                try Self.openssl(["pkey", "-in", "\(state[0])/agent.key", "-pubout"]),
            ]
        }
        #expect(checks[0].status == 0 && checks[0].output.contains("OK"), "\(checks[0].output)")
        #expect(checks[1].status != 0, "an agent certificate must not serve TLS: \(checks[1].output)")
        #expect(checks[2].output.contains("URI:spiffe://test.example/tenant/acme/node/edge-1"), "\(checks[2].output)")
        #expect(checks[3].output == checks[4].output && checks[3].output.contains("BEGIN PUBLIC KEY"))

        // Both enrollments are in the audit stream, and Redis holds no token in the clear.
        let audit = try JSONDecoder().decode(AuditPage.self, from: try await cluster.request("GET", "/v1/admin/audit?limit=50", token: cluster.adminToken).body)
        #expect(Set(audit.entries.filter { $0.action == "node_enrolled" }.compactMap { $0.detail.split(separator: ",").first }) == ["node edge-1", "node edge-2"])
        #expect(audit.entries.contains { $0.action == "join_token_created" && $0.detail.contains(join.id) })
        #expect(try await Self.storedJoinTokenValues(tenant: "acme", redis: cluster.redis).allSatisfy { !$0.contains(join.token) })
    }

    @Test func refusedEnrollmentsSayWhyAndABadRequestSpendsNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-enroll-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ca, other) = try await offThePool { (try Self.makeCA(in: directory), try Self.makeCA(in: directory, name: "other")) }
        let cluster = try await Self.cluster(ca: ca.path)
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let (evilToken, _) = try await cluster.createTenant("evil")
        let join = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest(ttlSeconds: 600, maxUses: 1, nodePattern: "edge-*"))
        let evilJoin = try await Self.createJoinToken(cluster, tenant: "evil", token: evilToken, JoinTokenRequest())
        let stateDir: @Sendable (String) -> String = { directory.appendingPathComponent($0).path }

        let outsidePattern = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "db-1", token: join.token, caHash: ca.pin, stateDir: stateDir("db-1")) }
        #expect(outsidePattern.status != 0 && outsidePattern.output.contains("node_not_allowed"), "\(outsidePattern.output)")
        let othersToken = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-1", token: evilJoin.token, caHash: ca.pin, stateDir: stateDir("e1")) }
        #expect(othersToken.status != 0 && othersToken.output.contains("join_token_invalid"), "\(othersToken.output)")
        let garbageCSR = try await cluster.request("POST", "/v1/tenants/acme/nodes/edge-1/enroll", token: join.token, json: EnrollmentRequest(csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"))
        #expect(garbageCSR.status == 400 && garbageCSR.text.contains("csr_invalid"), "\(garbageCSR.text)")
        let noToken = try await cluster.request("POST", "/v1/tenants/acme/nodes/edge-1/enroll", json: EnrollmentRequest(csr: "x"))
        #expect(noToken.status == 401)
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == 1, "a refused request spent a use")

        // The agent refuses an answer from a CA other than the pinned one, and stores nothing.
        let wrongPin = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-1", token: join.token, caHash: other.pin, stateDir: stateDir("pinned")) }
        #expect(wrongPin.status != 0 && wrongPin.output.contains("refusing to trust"), "\(wrongPin.output)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: stateDir("pinned")))?.isEmpty ?? true)

        // Expired and revoked tokens are refused like unknown ones.
        let short = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest(ttlSeconds: 1))
        let revoked = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest())
        #expect(try await cluster.request("DELETE", "/v1/tenants/acme/join-tokens/\(revoked.id)", token: token).status == 204)
        #expect(try await cluster.request("DELETE", "/v1/tenants/acme/join-tokens/\(revoked.id)", token: token).status == 404)
        try await Task.sleep(for: .milliseconds(1_500))
        for dead in [short.token, revoked.token] {
            let refused = try await offThePool { try Self.enroll(cluster, tenant: "acme", node: "edge-2", token: dead, caHash: ca.pin, stateDir: stateDir("dead")) }
            #expect(refused.status != 0 && refused.output.contains("join_token_invalid"), "\(refused.output)")
        }
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: short.id) == nil, "an expired token is still listed")

        // Bad token requests are 400s; the admin token may create tokens for an existing tenant only.
        let badPattern = try await cluster.request("POST", "/v1/tenants/acme/join-tokens", token: token, json: JoinTokenRequest(nodePattern: "edge*x"))
        #expect(badPattern.status == 400 && badPattern.text.contains("nodePattern"))
        #expect(try await cluster.request("POST", "/v1/tenants/acme/join-tokens", token: token, json: JoinTokenRequest(maxUses: 0)).status == 400)
        #expect(try await cluster.request("POST", "/v1/tenants/acme/join-tokens", token: evilToken, json: JoinTokenRequest()).status == 403)
        #expect(try await cluster.request("POST", "/v1/tenants/acme/join-tokens", token: cluster.adminToken, json: JoinTokenRequest()).status == 201)
        #expect(try await cluster.request("POST", "/v1/tenants/nobody/join-tokens", token: cluster.adminToken, json: JoinTokenRequest()).status == 404)

        // A deleted tenant's join tokens go with it.
        #expect(try await cluster.request("DELETE", "/v1/admin/tenants/evil", token: cluster.adminToken).status == 202)
        try await cluster.eventually("evil's keys are gone") {
            try await TenantLifecycleTests.traces(of: "evil", redis: cluster.redis).isEmpty
        }
    }

    @Test func overHTTPSTheAgentChecksThePinBeforeTheTokenLeavesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-enroll-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ca, other) = try await offThePool { () throws -> ((path: String, pin: String), (path: String, pin: String)) in
            let ca = try Self.makeCA(in: directory), other = try Self.makeCA(in: directory, name: "other")
            let issued = try CertificateAuthorityTests.fluxforge(["ca", "issue", "--ca", ca.path, "--name", "api", "--san", "api.test", "--san", "127.0.0.1"])
            guard issued.status == 0 else { throw HarnessError("ca issue: \(issued.output)") }
            return (ca, other)
        }
        let cluster = try await Self.cluster(ca: ca.path)
        defer { cluster.stopAll() }
        // A second router, its API on HTTPS, in the same cluster.
        let port = try RedisServerProcess.freeLoopbackPort(), agentPort = try RedisServerProcess.freeLoopbackPort()
        let secure = try FluxProcess(name: "router-https", arguments: [
            "router", "--redis", TestDatabase.url(of: cluster.redis), "--api-port", String(port), "--agent-port", String(agentPort),
            "--admin-token", cluster.adminToken, "--tls-cert", "\(ca.path)/api.crt", "--tls-key", "\(ca.path)/api.key", "--insecure-dev",
        ], directory: cluster.directory)
        defer { secure.kill() }
        let https = "https://127.0.0.1:\(port)"
        let (ready, plain) = try await offThePool { () throws -> (Bool, Run) in
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try CertificateAuthorityTests.run("/usr/bin/curl", ["-fsS", "--cacert", "\(ca.path)/ca.crt", "\(https)/readyz"]).output.contains("ready")
                if !ready { usleep(100_000) }
            }
            return (ready, try CertificateAuthorityTests.run("/usr/bin/curl", ["-fsS", "http://127.0.0.1:\(port)/healthz"]))
        }
        #expect(ready, "the HTTPS router never answered: \(secure.logTail())")
        #expect(plain.status != 0 && !plain.output.contains("\"ok\""), "plain HTTP was answered on the HTTPS port: \(plain.output)")

        let (token, _) = try await cluster.createTenant("acme")
        let join = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        let enroll = { @Sendable (pin: String, state: String) throws -> Run in
            try CertificateAuthorityTests.fluxforge([
                "enroll", "--tenant", "acme", "--node", "edge-1", "--join", https, "--join-token", join.token,
                "--ca-hash", pin, "--state-dir", directory.appendingPathComponent(state).path,
            ])
        }
        let wrongPin = try await offThePool { try enroll(other.pin, "wrong") }
        #expect(wrongPin.status != 0 && wrongPin.output.contains("the token was not sent"), "\(wrongPin.output)")
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == 1, "the token left the agent before the pin was checked")
        let enrolled = try await offThePool { try enroll(ca.pin, "right") }
        #expect(enrolled.status == 0 && enrolled.output.contains("spiffe://test.example/tenant/acme/node/edge-1"), "\(enrolled.output)")
        #expect(!enrolled.output.contains("plain HTTP"))
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == 0)
    }

    @Test func theLastUsesOfATokenGoToExactlyThatManyAgentsWhateverTheRace() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-enroll-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try await offThePool { try Self.makeCA(in: directory) }
        let cluster = try await Self.cluster(ca: ca.path)
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let join = try await Self.createJoinToken(cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 3))
        let outcomes = try await withThrowingTaskGroup(of: Run.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await offThePool {
                        try Self.enroll(cluster, tenant: "acme", node: "edge-\(index)", token: join.token, caHash: ca.pin,
                            stateDir: directory.appendingPathComponent("edge-\(index)").path)
                    }
                }
            }
            return try await group.reduce(into: [Run]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.status == 0 }.count == 3, "\(outcomes.map(\.output))")
        #expect(outcomes.filter { $0.output.contains("join_token_used_up") }.count == 5)
        #expect(try await Self.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == 0)
    }
}
