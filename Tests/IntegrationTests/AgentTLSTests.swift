import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// Agent sessions over mutual TLS (issue 12): the router's agent listener asks for a client
/// certificate of the cluster CA during the handshake, takes tenant and node from it, and
/// vouches for them to the shard over mutual TLS too; a shard's TLS agent listener takes an
/// attestation only from a router's certificate, and an agent only as its certificate names it.
@Suite("Agent mTLS", .serialized)
struct AgentTLSTests {
    /// A CA, the router's server certificate for 127.0.0.1, another CA with a client of its own,
    /// and a two-shard cluster whose router serves agents over TLS only.
    struct Setup {
        let directory: URL
        let ca: (path: String, pin: String)
        let other: String
        let cluster: RouterHarness
        var agentTLSPort: Int { cluster.agentPort }
        var agentURL: String { "wss://127.0.0.1:\(cluster.agentPort)/v1/agent/connect" }
    }

    static func setUp(shardExtra: [String] = []) async throws -> Setup {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-mtls-\(UUID().uuidString)")
        let (ca, other) = try await offThePool { () throws -> ((path: String, pin: String), String) in
            let ca = try EnrollmentTests.makeCA(in: directory)
            let other = try EnrollmentTests.makeCA(in: directory, name: "other")
            // The router's certificate names it as a router (what shards accept attestations
            // from); the shards' names no agent and no router.
            for (authority, name, spiffe) in [
                (ca.path, "router", "spiffe://test.example/router/router-1"), (ca.path, "shard", "spiffe://test.example/shard/any"),
                (other.path, "intruder", "spiffe://test.example/router/intruder"),
            ] {
                let issued = try CertificateAuthorityTests.fluxforge([
                    "ca", "issue", "--ca", authority, "--name", name, "--san", "\(name).test", "--san", "127.0.0.1", "--san", spiffe,
                ])
                guard issued.status == 0 else { throw HarnessError("ca issue \(name): \(issued.output)") }
            }
            return (ca, other.path)
        }
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a", "shard-b"],
            routerArguments: [
                "--agent-tls-cert", "\(ca.path)/router.crt", "--agent-tls-key", "\(ca.path)/router.key",
                "--agent-client-ca", "\(ca.path)/ca.crt", "--trust-domain", "test.example",
            ],
            shardArguments: [
                "--ca", ca.path, "--trust-domain", "test.example", "--agent-tls-cert", "\(ca.path)/shard.crt",
                "--agent-tls-key", "\(ca.path)/shard.key", "--agent-client-ca", "\(ca.path)/ca.crt",
            ] + shardExtra)
        return Setup(directory: directory, ca: ca, other: other, cluster: cluster)
    }

    /// Enrolls `node` of `tenant` with `fluxforge enroll` and the join token (its key and
    /// certificate in `state-<node>` of the setup's directory); returns that directory.
    static func enroll(_ setup: Setup, tenant: String, node: String, joinToken: String) async throws -> String {
        let state = setup.directory.appendingPathComponent("state-\(node)").path
        let enrolled = try await offThePool {
            try EnrollmentTests.enroll(setup.cluster, tenant: tenant, node: node, token: joinToken, caHash: setup.ca.pin, stateDir: state)
        }
        #expect(enrolled.status == 0, "\(enrolled.output)")
        return state
    }

    /// Starts `fluxforge agent` over wss:// enrolling with `joinToken` (no agent token anywhere).
    static func startAgent(_ setup: Setup, tenant: String, token: String, node: String, joinToken: String?) async throws -> FluxProcess {
        var arguments = [
            "agent", "--url", setup.agentURL, "--tls-server-name", "router.test", "--tenant", tenant, "--node", node, "--zone", "zone-a", "--rack", "rack-1",
            "--reconnect-min-ms", "50", "--reconnect-max-ms", "500", "--state-dir", setup.directory.appendingPathComponent("state-\(node)").path,
        ]
        if joinToken != nil { arguments += ["--join", setup.cluster.baseURL, "--ca-hash", setup.ca.pin] }
        let agent = try FluxProcess(
            name: "agent-\(node)", arguments: arguments, environment: joinToken.map { ["FLUXFORGE_JOIN_TOKEN": $0] } ?? [:],
            directory: setup.cluster.directory)
        setup.cluster.track(agent, as: tenant + "/" + node)
        try await setup.cluster.waitForNode(tenant: tenant, token: token, node: node, connected: true)
        return agent
    }

    @Test func anEnrolledAgentRunsTasksOverMutualTLSWithNoTokenAndKeepsItsIdentityAcrossRestarts() async throws {
        let setup = try await Self.setUp()
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, _) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        let agent = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let id = try await setup.cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "echo over-mtls"], node: "edge-1"))
        let done = try await setup.cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "over-mtls\n", "\(done)")
        #expect(try await setup.cluster.request("GET", "/readyz").text.contains("\"agentAuth\":\"mtls\""))

        // A restart finds its identity in the state directory: the used-up token is not needed.
        agent.kill()
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false)
        try agent.start()
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: true)
        #expect(agent.logTail().contains("connecting with mTLS"), "\(agent.logTail())")
        #expect(try await EnrollmentTests.usesLeft(setup.cluster, tenant: "acme", token: token, id: join.id) == 0)
    }

    @Test func theListenerAdmitsOnlyWhatTheCertificateProves() async throws {
        let setup = try await Self.setUp()
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, agentToken) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        let edge1 = try await Self.enroll(setup, tenant: "acme", node: "edge-1", joinToken: join.token)
        let port = setup.agentTLSPort
        @Sendable func hello(_ node: String, token: String = "") -> String {
            LyingAgentTests.json(HostileAgentTests.hello("acme", node: node, token: token))
        }
        let (noCertificate, foreign, claimsOther, routerCertificate, genuine) = try await offThePool {
            (
                // A stolen agent token alone: no certificate, no session.
                TLSWebSocketProbe.run(port: port, certificate: nil, key: nil, ca: "\(setup.ca.path)/ca.crt", hello: hello("edge-1", token: agentToken)),
                TLSWebSocketProbe.run(
                    port: port, certificate: "\(setup.other)/intruder.crt", key: "\(setup.other)/intruder.key", ca: "\(setup.ca.path)/ca.crt",
                    hello: hello("edge-1")),
                // edge-1's own certificate, saying hello as edge-2.
                TLSWebSocketProbe.run(port: port, certificate: "\(edge1)/agent.crt", key: "\(edge1)/agent.key", ca: "\(edge1)/ca.crt", hello: hello("edge-2")),
                // A certificate of the cluster CA that names no agent.
                TLSWebSocketProbe.run(
                    port: port, certificate: "\(setup.ca.path)/router.crt", key: "\(setup.ca.path)/router.key", ca: "\(setup.ca.path)/ca.crt",
                    hello: hello("edge-1")),
                TLSWebSocketProbe.run(port: port, certificate: "\(edge1)/agent.crt", key: "\(edge1)/agent.key", ca: "\(edge1)/ca.crt", hello: hello("edge-1"))
            )
        }
        #expect(!noCertificate.contains("101 Switching Protocols") && noCertificate.contains("alert"), "\(noCertificate)")
        #expect(!foreign.contains("101 Switching Protocols") && foreign.contains("alert"), "\(foreign)")
        #expect(claimsOther.contains("101 Switching Protocols") && claimsOther.contains("identity_mismatch"), "\(claimsOther)")
        #expect(routerCertificate.contains("identity_required"), "\(routerCertificate)")
        #expect(genuine.contains("welcome") && !genuine.contains("\"error\""), "the genuine certificate was refused: \(genuine)")
        let nodes = try JSONDecoder().decode(NodeList.self, from: try await setup.cluster.request("GET", "/v1/tenants/acme/nodes", token: token).body)
        #expect(!nodes.nodes.contains { $0.node == "edge-2" }, "a node its certificate does not name joined")
        let metrics = try PrometheusText(try await setup.cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_agent_identity_mismatch_total", [:]) == 1)
    }

    @Test func aShardsTLSAgentPortTakesRoutersAttestationsAndAgentsCertificatesNothingElse() async throws {
        let setup = try await Self.setUp()
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, agentToken) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 2))
        let edge2 = try await Self.enroll(setup, tenant: "acme", node: "edge-2", joinToken: join.token)
        // Straight to the shards' agent ports (each checks identity before it looks at slots).
        let ports = try ["shard-a", "shard-b"].map { try #require(setup.cluster.shards[$0]).agentPort }
        let port = ports[0]
        let ca = "\(setup.ca.path)/ca.crt"
        @Sendable func hello(_ node: String, token: String = "") -> String {
            LyingAgentTests.json(HostileAgentTests.hello("acme", node: node, token: token))
        }
        let (tokenOnly, shardCertificate, routerWithToken, directAgent, directLiar) = try await offThePool { () -> (String, String, String, [String], String) in
            (
                TLSWebSocketProbe.run(port: port, certificate: nil, key: nil, ca: ca, hello: hello("edge-1", token: agentToken)),
                TLSWebSocketProbe.run(
                    port: port, certificate: "\(setup.ca.path)/shard.crt", key: "\(setup.ca.path)/shard.key", ca: ca, hello: hello("edge-1", token: agentToken)),
                TLSWebSocketProbe.run(
                    port: port, certificate: "\(setup.ca.path)/router.crt", key: "\(setup.ca.path)/router.key", ca: ca, hello: hello("edge-1", token: agentToken)),
                // The owner of acme's slot welcomes it; the other says slot_not_ready.
                ports.map { TLSWebSocketProbe.run(port: $0, certificate: "\(edge2)/agent.crt", key: "\(edge2)/agent.key", ca: ca, hello: hello("edge-2")) },
                TLSWebSocketProbe.run(port: port, certificate: "\(edge2)/agent.crt", key: "\(edge2)/agent.key", ca: ca, hello: hello("edge-3"))
            )
        }
        #expect(!tokenOnly.contains("101 Switching Protocols") && tokenOnly.contains("alert"), "a token alone opened a session: \(tokenOnly)")
        #expect(shardCertificate.contains("identity_required"), "\(shardCertificate)")
        #expect(routerWithToken.contains("identity_required"), "a router certificate with an agent token: \(routerWithToken)")
        #expect(directAgent.filter { $0.contains("welcome") }.count == 1, "\(directAgent)")
        #expect(directAgent.allSatisfy { $0.contains("welcome") || $0.contains("slot_not_ready") }, "\(directAgent)")
        #expect(directLiar.contains("identity_mismatch"), "\(directLiar)")

        // Through the router (mutual TLS on both hops), the real agent runs a task.
        _ = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let id = try await setup.cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "echo both-hops"], node: "edge-1"))
        let done = try await setup.cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "both-hops\n", "\(done)")
    }

    @Test func aRevokedCertificateLosesItsLiveSessionAndIsRefusedUntilTheNodeEnrollsAgain() async throws {
        let setup = try await Self.setUp()
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, _) = try await setup.cluster.createTenant("acme")
        let (evilToken, _) = try await setup.cluster.createTenant("evil")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 2))
        let agent = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let path = "/v1/tenants/acme/nodes/edge-1/certificate"
        #expect(try await setup.cluster.request("DELETE", path, token: evilToken).status == 403)
        #expect(try await setup.cluster.request("DELETE", "/v1/tenants/acme/nodes/nobody/certificate", token: token).status == 404)

        let revoked = try await setup.cluster.request("DELETE", path, token: token)
        #expect(revoked.status == 200, "\(revoked.text)")
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false, timeout: .seconds(5))
        // The agent keeps trying; each try is refused at hello and it stays out.
        try await Task.sleep(for: .seconds(2))
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false, timeout: .seconds(1))
        #expect(agent.logTail(lines: 200).contains("certificate_revoked"), "\(agent.logTail())")
        let metrics = try PrometheusText(try await setup.cluster.request("GET", "/metrics").text)
        #expect((metrics.value("flux_agent_sessions_revoked_total", [:]) ?? 0) >= 2, "one live session closed and at least one hello refused")
        let audit = try JSONDecoder().decode(AuditPage.self, from: try await setup.cluster.request("GET", "/v1/admin/audit?limit=20", token: setup.cluster.adminToken).body)
        #expect(audit.entries.contains { $0.action == "certificate_revoked" && $0.detail.hasPrefix("node edge-1") })

        // Enrolled again (a new key and serial), the node is let back in; the admin revokes by serial.
        agent.kill()
        let state = setup.directory.appendingPathComponent("state-edge-1")
        try FileManager.default.removeItem(at: state)
        _ = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let serial = try await offThePool {
            try EnrollmentTests.openssl(["x509", "-in", state.appendingPathComponent("agent.crt").path, "-noout", "-serial"]).output
        }.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() } ?? ""
        #expect(serial.count == 32, "\(serial)")
        #expect(try await setup.cluster.request("DELETE", "/v1/admin/certificates/\(serial)", token: token).status == 403)
        #expect(try await setup.cluster.request("DELETE", "/v1/admin/certificates/xyz", token: setup.cluster.adminToken).status == 400)
        #expect(try await setup.cluster.request("DELETE", "/v1/admin/certificates/\(serial)", token: setup.cluster.adminToken).status == 200)
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false, timeout: .seconds(5))
    }

    @Test func aCertificateIsRenewedOverTheSessionBeforeItExpiresAndNoWorkIsDropped() async throws {
        // 30 s certificates: the agent asks for a new one at 20 s.
        let setup = try await Self.setUp(shardExtra: ["--agent-cert-seconds", "30"])
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, _) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        let agent = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let certificate = setup.directory.appendingPathComponent("state-edge-1/agent.crt").path
        @Sendable func serialAndExpiry() throws -> String {
            try EnrollmentTests.openssl(["x509", "-in", certificate, "-noout", "-serial", "-enddate"]).output
        }
        let first = try await offThePool { try serialAndExpiry() }
        // The first certificate and key, kept to try once they have expired.
        let state = setup.directory.appendingPathComponent("state-edge-1")
        let expired = (certificate: setup.directory.appendingPathComponent("first.crt").path, key: setup.directory.appendingPathComponent("first.key").path)
        try FileManager.default.copyItem(atPath: certificate, toPath: expired.certificate)
        try FileManager.default.copyItem(atPath: state.appendingPathComponent("agent.key").path, toPath: expired.key)
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let id = try await setup.cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "echo kept"), node: "edge-1"))
        _ = try await setup.cluster.waitForState(tenant: "acme", token: token, id: id, ["RUNNING"])

        try await setup.cluster.eventually(timeout: .seconds(40), "the certificate is renewed") {
            agent.logTail(lines: 200).contains("certificate renewed")
        }
        let renewed = try await offThePool { try serialAndExpiry() }
        #expect(renewed != first, "the stored certificate did not change: \(renewed)")
        // The session that renewed is the one that runs the task: it finishes on its first attempt.
        gate.open()
        let done = try await setup.cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.attempt == 1 && done.result?.outputTail == "kept\n", "\(done)")
        let audit = try JSONDecoder().decode(AuditPage.self, from: try await setup.cluster.request("GET", "/v1/admin/audit?limit=20", token: setup.cluster.adminToken).body)
        #expect(audit.entries.contains { $0.action == "certificate_renewed" && $0.detail.hasPrefix("node edge-1") })

        // Once the first certificate has expired, its handshake is refused, and a restarted agent
        // gets in with the renewed one (the join token is used up: nothing else could let it in).
        try await setup.cluster.eventually(timeout: .seconds(40), "the first certificate expires") {
            (try? await offThePool { try EnrollmentTests.openssl(["x509", "-in", expired.certificate, "-noout", "-checkend", "0"]).status }) == 1
        }
        let hello = LyingAgentTests.json(HostileAgentTests.hello("acme", node: "edge-1", token: ""))
        let port = setup.agentTLSPort, ca = "\(setup.ca.path)/ca.crt"
        let refused = await offThePool {
            TLSWebSocketProbe.run(port: port, certificate: expired.certificate, key: expired.key, ca: ca, hello: hello)
        }
        #expect(!refused.contains("101 Switching Protocols") && refused.contains("alert"), "an expired certificate got in:\n\(refused)")
        agent.kill()
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false)
        try agent.start()
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: true)
    }

    @Test func aSessionOpenedWithTheAgentTokenCannotMintACertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-renew-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try await offThePool { try EnrollmentTests.makeCA(in: directory) }
        let cluster = try await ShardHarness(extraArguments: ["--ca", ca.path])
        defer { cluster.stopAll() }
        let (_, agentToken) = try await cluster.createTenant("acme")
        // Any CSR will do: the request is refused before it is read.
        let renew = LyingAgentTests.json(.renew(.init(csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----")))
        let seen = try await HostileAgentTests.play(
            url: cluster.agentURL, hello: HostileAgentTests.hello("acme", node: "edge-1", token: agentToken), frames: [renew], timeout: .seconds(2))
        #expect(seen.errors.isEmpty)
        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_agent_frames_rejected_total", ["reason": "renew_refused"]) == 1)
    }

    @Test func anAgentConnectedStraightToAShardLosesItsSessionWhenItsCertificateIsRevoked() async throws {
        let setup = try await Self.setUp()
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        let (token, _) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        let state = try await Self.enroll(setup, tenant: "acme", node: "edge-1", joinToken: join.token)
        // The shard that owns acme's slot answers its paths; the other says 421.
        var owner: ShardHarness?
        for shard in setup.cluster.shards.values where try await shard.request("GET", "/v1/tenants/acme/nodes", token: token).status == 200 {
            owner = shard
        }
        let shard = try #require(owner, "no shard owns acme's slot")
        let agent = try FluxProcess(name: "agent-direct", arguments: [
            "agent", "--url", "wss://127.0.0.1:\(shard.agentPort)/v1/agent/connect", "--tls-server-name", "shard.test",
            "--tenant", "acme", "--node", "edge-1", "--zone", "zone-a", "--rack", "rack-1",
            "--reconnect-min-ms", "50", "--reconnect-max-ms", "500", "--state-dir", state,
        ], directory: setup.cluster.directory)
        setup.cluster.track(agent, as: "acme/edge-1")
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: true)

        #expect(try await setup.cluster.request("DELETE", "/v1/tenants/acme/nodes/edge-1/certificate", token: token).status == 200)
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false, timeout: .seconds(5))
        try await Task.sleep(for: .seconds(2))
        try await setup.cluster.waitForNode(tenant: "acme", token: token, node: "edge-1", connected: false, timeout: .seconds(1))
        #expect(agent.logTail(lines: 200).contains("certificate_revoked"), "\(agent.logTail())")
    }

    @Test func theTokenPathIsNeverTheSilentDefault() async throws {
        // Neither TLS nor --insecure-dev: the process says what it needs and does not start.
        let (shard, router) = try await offThePool { () throws -> (EnrollmentTests.Run, EnrollmentTests.Run) in
            (try CertificateAuthorityTests.fluxforge(["shard", "--id", "s", "--admin-token", "t"]),
             try CertificateAuthorityTests.fluxforge(["router", "--admin-token", "t"]))
        }
        for outcome in [shard, router] {
            #expect(outcome.status != 0 && outcome.output.contains("--insecure-dev") && outcome.output.contains("--agent-tls-cert"), "\(outcome.output)")
        }
        // Chosen explicitly, it is reported where an operator looks.
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        #expect(try await cluster.request("GET", "/readyz").text.contains("\"agentAuth\":\"insecure-dev\""))
        #expect(cluster.shard.logTail(lines: 200).contains("INSECURE"))
    }

    @Test func aShardTakesARoutersAttestationOnlyForItsNodeAndOnlyWhileFresh() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        _ = try await cluster.createTenant("acme")
        let redis = RedisClient(configuration: cluster.redis)
        defer { Task { await redis.close() } }
        // The cluster key is in Redis: what a router would sign, made here the same way.
        let signer = TaskIDSigner(redis: redis)
        let now = WallClock.nowMs()
        let forEdge1 = try await AgentAttestation.make(signer: signer, tenant: "acme", node: "edge-1", nowMs: now)
        let stale = try await AgentAttestation.make(signer: signer, tenant: "acme", node: "edge-1", nowMs: now - 2 * AgentAttestation.lifetimeMs)
        let forged = "ffid1:\(now + 30_000):" + String(repeating: "0", count: 64)
        let hello = { (node: String, token: String) in HostileAgentTests.hello("acme", node: node, token: token) }

        let accepted = try await HostileAgentTests.play(url: cluster.agentURL, hello: hello("edge-1", forEdge1), frames: [], timeout: .seconds(2))
        #expect(accepted.errors.isEmpty && !accepted.closed, "\(accepted)")
        for (node, token) in [("edge-2", forEdge1), ("edge-1", stale), ("edge-1", forged)] {
            let refused = try await HostileAgentTests.play(url: cluster.agentURL, hello: hello(node, token), frames: [], timeout: .seconds(5))
            #expect(refused.closed && refused.errors == ["unauthorized"], "\(node) with \(token.prefix(24)): \(refused)")
        }
    }
}

extension AgentTLSTests {
    /// Router → shard API calls over mutual TLS (`--api-mtls`): the shard's API port serves only
    /// clients with a certificate of the cluster CA; routers call it with theirs, and probes use
    /// the plain `--ops-port`, which serves health and metrics and nothing of a tenant's.
    @Test func routersCallShardAPIsOverMutualTLSAndTheShardsServeNobodyElseThere() async throws {
        let setup = try await Self.setUp(shardExtra: ["--api-mtls"])
        defer { setup.cluster.stopAll(); try? FileManager.default.removeItem(at: setup.directory) }
        // Every tenant call below is forwarded by the router to the owning shard's https API.
        let (token, _) = try await setup.cluster.createTenant("acme")
        let join = try await EnrollmentTests.createJoinToken(setup.cluster, tenant: "acme", token: token, JoinTokenRequest(maxUses: 1))
        _ = try await Self.startAgent(setup, tenant: "acme", token: token, node: "edge-1", joinToken: join.token)
        let id = try await setup.cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["/bin/echo", "over mtls"], node: "edge-1"))
        let done = try await setup.cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "over mtls\n", "\(done)")
        let view = try JSONDecoder().decode(ClusterView.self, from: try await setup.cluster.request("GET", "/v1/admin/cluster", token: setup.cluster.adminToken).body)
        #expect(view.members.count == 2 && view.members.allSatisfy { $0.api.hasPrefix("https://127.0.0.1:") }, "\(view.members.map(\.api))")

        for shard in setup.cluster.shards.values {
            let port = shard.apiPort, ca = setup.ca.path
            // Plain HTTP gets no answer; TLS without a certificate, or with another CA's, no HTTP at all.
            let plain = try? await httpRequest("GET", "http://127.0.0.1:\(port)/healthz")
            #expect(plain == nil || plain?.status == 0, "plain HTTP answered \(plain?.status ?? 0)")
            let (anonymous, intruder, router) = await offThePool {
                (TLSWebSocketProbe.get("/healthz", port: port, certificate: nil, key: nil, ca: "\(ca)/ca.crt"),
                 TLSWebSocketProbe.get("/healthz", port: port, certificate: "\(setup.other)/intruder.crt", key: "\(setup.other)/intruder.key", ca: "\(ca)/ca.crt"),
                 TLSWebSocketProbe.get("/healthz", port: port, certificate: "\(ca)/router.crt", key: "\(ca)/router.key", ca: "\(ca)/ca.crt"))
            }
            #expect(!anonymous.contains("HTTP/1.1"), "served without a client certificate:\n\(anonymous)")
            #expect(!intruder.contains("HTTP/1.1"), "served another CA's certificate:\n\(intruder)")
            #expect(router.contains("HTTP/1.1 200"), "a router's certificate was not served:\n\(router)")
            // The ops port: readiness and metrics, nothing of a tenant's.
            let ops = try #require(shard.opsURL)
            let ready = try await httpRequest("GET", ops + "/readyz")
            #expect(ready.status == 200 && ready.text.contains("\"apiTLS\":\"mtls\""), "\(ready.status) \(ready.text)")
            #expect(try await httpRequest("GET", ops + "/metrics").text.contains("flux_"))
            #expect(try await httpRequest("GET", ops + "/v1/tenants/acme/nodes", token: token).status == 404)
        }
    }
}

/// A WebSocket session over TLS written by hand through `openssl s_client`: the upgrade request
/// and one masked text frame (the hello), then whatever the server sends until it closes.
/// Returns s_client's output (handshake lines, the HTTP answer, the server's frames in clear).
enum TLSWebSocketProbe {
    static func run(port: Int, certificate: String?, key: String?, ca: String, hello: String) -> String {
        var input = Data("""
            GET /v1/agent/connect HTTP/1.1\r
            Host: 127.0.0.1\r
            Upgrade: websocket\r
            Connection: Upgrade\r
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
            Sec-WebSocket-Version: 13\r
            \r

            """.utf8)
        input.append(maskedTextFrame(hello))
        return exchange(port: port, certificate: certificate, key: key, ca: ca, input: input)
    }

    /// One `GET path` over TLS with `Connection: close`; returns s_client's output.
    static func get(_ path: String, port: Int, certificate: String?, key: String?, ca: String) -> String {
        exchange(port: port, certificate: certificate, key: key, ca: ca, input: Data("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
    }

    /// Writes `input` through `openssl s_client` (verifying the server against `ca`, presenting
    /// `certificate` if given) and returns everything it printed.
    static func exchange(port: Int, certificate: String?, key: String?, ca: String, input: Data) -> String {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-verify_return_error", "-quiet"]
        if let certificate, let key { arguments += ["-cert", certificate, "-key", key] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CertificateAuthorityTests.openssl)
        process.arguments = arguments
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        guard (try? process.run()) != nil else { return "openssl did not start" }
        stdin.fileHandleForWriting.write(input)
        // -quiet keeps reading after stdin ends; a session the server keeps open ends at the deadline.
        usleep(1_500_000)
        try? stdin.fileHandleForWriting.close()
        let deadline = Date() + 4
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// RFC 6455: FIN + text opcode, the mask bit with a length, a mask key, the masked payload.
    static func maskedTextFrame(_ text: String) -> Data {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return Data(frame)
    }
}
