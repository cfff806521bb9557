import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// One tenant cannot reach another's work (issue 15), tried as a hostile tenant would.
@Suite("Tenant isolation", .serialized)
struct TenantIsolationTests {
    /// Two tenant names that hash to the same slot, so their keys share one hash tag: the case
    /// where only the code, not the key layout, keeps them apart.
    static func sameSlotPair() -> (String, String) {
        var seen: [Int: String] = [:]
        for index in 0..<10_000 {
            let name = "iso\(index)"
            let slot = Slotting.slot(forTenant: name, slotCount: 256)
            if let first = seen[slot] { return (first, name) }
            seen[slot] = name
        }
        fatalError("no two names share a slot")
    }

    /// The record's `output_tail`, which holds the agent's reason for a rejected dispatch.
    static func outputTail(_ cluster: ShardHarness, tenant: String, id: String) async throws -> String {
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let key = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256)).task(id)
        return try await connection.send(RedisCommand("HGET", key, "output_tail")).string ?? ""
    }

    @Test func aTenantCannotReadAnotherTenantsTimeline() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (owner, intruder) = Self.sameSlotPair()
        let (ownerToken, _) = try await cluster.createTenant(owner)
        let (intruderToken, _) = try await cluster.createTenant(intruder)
        let id = try await cluster.submit(tenant: owner, token: ownerToken, TaskSubmission(command: ["true"]))
        #expect(try await cluster.timeline(tenant: owner, token: ownerToken, id: id).isEmpty == false)
        for path in ["", "/timeline", "/explain"] {
            let response = try await cluster.request("GET", "/v1/tenants/\(intruder)/tasks/\(id)\(path)", token: intruderToken)
            #expect(response.status == 404, "GET …/tasks/{id}\(path) of another tenant answered \(response.status): \(response.text)")
            #expect(!response.text.contains("QUEUED"), "another tenant's task leaked: \(response.text)")
        }
    }

    @Test func tasksStartFromACleanEnvironmentAndCannotRedirectWhatRuns() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(
            tenant: "acme", token: token, agentToken: agentToken, node: "edge-1", extraArguments: ["--allow", "env", "--allow", "sh"])
        let once = RetrySpec(maxAttempts: 1, backoff: "none", baseDelayMs: 0, maxDelayMs: 0)

        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["env"], env: ["GREETING": "hi"], retry: once))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        let output = done.result?.outputTail ?? ""
        #expect(done.state == "SUCCEEDED", "\(output)")
        #expect(output.contains("GREETING=hi\n") && output.contains("FLUX_NODE=edge-1\n"))
        #expect(output.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"))
        #expect(!output.contains(agentToken), "a task read the agent's token")
        #expect(!output.contains("FLUXFORGE"), "the agent's own environment reached a task: \(output)")
        let variables = output.split(separator: "\n").map { $0.prefix { $0 != "=" } }
        #expect(Set(variables).isSubset(of: ["PATH", "GREETING", "FLUX_NODE", "FLUX_TASK_ID", "FLUX_ATTEMPT", "PWD", "SHLVL", "_"]), "\(variables)")

        for env in [["LD_PRELOAD": "/tmp/evil.so"], ["PATH": cluster.directory.path]] {
            let refused = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "true"], env: env, retry: once))
            let result = try await cluster.waitForState(tenant: "acme", token: token, id: refused, ["SUCCEEDED", "FAILED"])
            #expect(result.state == "FAILED" && result.reason == "agent_rejected", "\(env) ran: \(result.state)")
            #expect(try await Self.outputTail(cluster, tenant: "acme", id: refused).contains("env_not_allowed"))
        }

        // An allowed name is matched by the file it resolves to: a copy of sh called "env" is not env.
        let impostor = cluster.directory.appendingPathComponent("env").path
        try FileManager.default.copyItem(atPath: "/bin/sh", toPath: impostor)
        let forged = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: [impostor, "-c", "true"], retry: once))
        let refused = try await cluster.waitForState(tenant: "acme", token: token, id: forged, ["SUCCEEDED", "FAILED"])
        #expect(refused.reason == "agent_rejected")
        #expect(try await Self.outputTail(cluster, tenant: "acme", id: forged) == "agent rejected: not_allowed")
    }
}
