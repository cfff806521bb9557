import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// The operator's tenant lifecycle through the router (issue 15, finding 9): list, rotate with a
/// grace period, revoke, suspend and resume, every action in the audit stream.
@Suite("Tenant lifecycle", .serialized)
struct TenantLifecycleTests {
    @Test func operatorsListRotateRevokeSuspendAndAuditTenants() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let admin = cluster.adminToken
        let (token, _) = try await cluster.createTenant("alpha")
        _ = try await cluster.createTenant("beta")
        let submit = { (token: String) in
            try await cluster.request("POST", "/v1/tenants/alpha/tasks", token: token, json: TaskSubmission(command: ["true"]))
        }

        let list = try JSONDecoder().decode(TenantList.self, from: try await cluster.request("GET", "/v1/admin/tenants", token: admin).body)
        #expect(list.tenants.map(\.tenant) == ["alpha", "beta"] && list.tenants.allSatisfy { !$0.suspended })
        #expect(try await cluster.request("GET", "/v1/admin/tenants", token: token).status == 403, "a tenant token listed tenants")

        // Rotation: both tokens work during the grace period, then only the new one.
        let rotation = try await cluster.request("POST", "/v1/admin/tenants/alpha/token:rotate", token: admin, json: TokenRotation(graceSeconds: 2))
        let rotated = try JSONDecoder().decode(TokenRotated.self, from: rotation.body)
        #expect(try await submit(rotated.token).status == 202)
        #expect(try await submit(token).status == 202, "the old token must work during its grace period")
        try await cluster.eventually(timeout: .seconds(10), "the old token expires") { try await submit(token).status == 403 }
        #expect(try await submit(rotated.token).status == 202)

        // Revocation: no API token works until the next rotation.
        #expect(try await cluster.request("POST", "/v1/admin/tenants/alpha/token:revoke", token: admin).status == 200)
        try await cluster.eventually(timeout: .seconds(10), "the revoked token is refused") { try await submit(rotated.token).status == 403 }
        let fresh = try JSONDecoder().decode(
            TokenRotated.self, from: try await cluster.request("POST", "/v1/admin/tenants/alpha/token:rotate", token: admin, json: TokenRotation(graceSeconds: 0)).body)
        try await cluster.eventually(timeout: .seconds(10), "the fresh token works") { try await submit(fresh.token).status == 202 }

        // Suspension: reads go on, submissions are refused at the door, until resumed.
        #expect(try await cluster.request("POST", "/v1/admin/tenants/alpha:suspend", token: admin).status == 200)
        let refused = try await submit(fresh.token)
        #expect(refused.status == 403 && refused.errorCode == "tenant_suspended", "\(refused.status) \(refused.text)")
        #expect(try await cluster.request("GET", "/v1/tenants/alpha/tasks", token: fresh.token).status == 200)
        let suspendedList = try JSONDecoder().decode(TenantList.self, from: try await cluster.request("GET", "/v1/admin/tenants", token: admin).body)
        #expect(suspendedList.tenants.first { $0.tenant == "alpha" }?.suspended == true)
        #expect(try await cluster.request("POST", "/v1/admin/tenants/alpha:resume", token: admin).status == 200)
        #expect(try await submit(fresh.token).status == 202)
        #expect(try await cluster.request("POST", "/v1/admin/tenants/nobody:suspend", token: admin).status == 404)
        #expect(try await cluster.request("POST", "/v1/admin/tenants/alpha:explode", token: admin).status == 404)

        // Every action is in the audit stream, newest first, naming who carried it out.
        let audit = try JSONDecoder().decode(AuditPage.self, from: try await cluster.request("GET", "/v1/admin/audit?limit=20", token: admin).body)
        let actions = audit.entries.reversed().map { "\($0.action) \($0.tenant)" }
        #expect(actions == [
            "tenant_created alpha", "tenant_created beta", "token_rotated alpha", "token_revoked alpha", "token_rotated alpha",
            "tenant_suspended alpha", "tenant_resumed alpha",
        ], "\(actions)")
        #expect(audit.entries.first { $0.action == "tenant_created" }?.by == "shard-a")
        #expect(audit.entries.first { $0.action == "tenant_suspended" }?.by == "router")
    }

    /// Every key in Redis that still mentions the tenant: its own keys (`t:<tenant>:…`), task
    /// records naming it, idempotency members and ledger fields carrying its prefix, set members.
    static func traces(of tenant: String, redis: RedisConfiguration) async throws -> [String] {
        let connection = try await RedisConnection.connect(configuration: redis)
        defer { Task { await connection.close() } }
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256))
        var found = try await connection.send(RedisCommand("KEYS", "*:t:\(tenant):*")).array?.compactMap(\.string) ?? []
        for key in try await connection.send(RedisCommand("KEYS", "ff:*:task:*")).array?.compactMap(\.string) ?? [] {
            if try await connection.send(RedisCommand("HGET", key, "tenant")).string == tenant { found.append(key) }
        }
        for (command, key) in [("ZRANGE", keys.idempotency), ("HKEYS", keys.idempotencyValues), ("HKEYS", keys.stored), ("HKEYS", keys.live)] {
            let arguments = command == "ZRANGE" ? [key, "0", "-1"] : [key]
            let members = try await connection.send(RedisCommand(command, arguments: arguments)).array?.compactMap(\.string) ?? []
            found += members.filter { $0 == tenant || $0.hasPrefix(tenant + ":") || $0.hasPrefix(tenant + "@") }.map { "\(key) \($0)" }
        }
        for entry in try await connection.send(RedisCommand("XRANGE", keys.events, "-", "+")).array ?? [] {
            guard let pair = entry.array, pair.count == 2, let fields = pair[1].array?.compactMap(\.string) else { continue }
            let named = stride(from: 0, to: fields.count - 1, by: 2).contains { fields[$0] == "tenant" && fields[$0 + 1] == tenant }
            if named {
                found.append("\(keys.events) \(pair[0].string ?? "")")
            }
        }
        for key in [keys.tenants, ClusterKeys.deleting] where try await connection.send(RedisCommand("SISMEMBER", key, tenant)).int == 1 {
            found.append("\(key) \(tenant)")
        }
        return found
    }

    @Test func aDeletedTenantLeavesNothingBehindAndItsNeighbourLosesNothing() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let admin = cluster.adminToken
        // Two tenants of one slot: they share the slot's idempotency set, live count and ledger.
        let (gone, stays) = TenantIsolationTests.sameSlotPair()
        let (token, agentToken) = try await cluster.createTenant(gone)
        let (neighbourToken, neighbourAgentToken) = try await cluster.createTenant(stays)
        try await cluster.startAgent(tenant: gone, token: token, agentToken: agentToken, node: "edge-1")
        try await cluster.startAgent(tenant: stays, token: neighbourToken, agentToken: neighbourAgentToken, node: "edge-1")
        let keyed = ["X-Flux-Idempotency-Key": "same-key"]
        for tenant in [(gone, token), (stays, neighbourToken)] {
            let response = try await cluster.request(
                "POST", "/v1/tenants/\(tenant.0)/tasks", token: tenant.1, json: TaskSubmission(command: ["true"]), headers: keyed)
            #expect(response.status == 202)
        }
        let neighbourTask = try await cluster.submit(tenant: stays, token: neighbourToken, TaskSubmission(command: ["echo", "kept"]))
        let desired = DesiredStateSpec(check: ["true"], apply: ["true"])
        #expect(try await cluster.request("PUT", "/v1/tenants/\(gone)/desired/motd", token: token, json: desired).status == 201)
        let long = try await cluster.submit(tenant: gone, token: token, TaskSubmission(command: ["sleep", "30"]))
        _ = try await cluster.waitForState(tenant: gone, token: token, id: long, ["RUNNING"])

        // Unfinished work keeps it: cancel first.
        let busy = try await cluster.request("DELETE", "/v1/admin/tenants/\(gone)", token: admin)
        #expect(busy.status == 409 && busy.errorCode == "tenant_busy", "\(busy.status) \(busy.text)")
        #expect(try await cluster.request("POST", "/v1/tenants/\(gone)/tasks/\(long)/cancel", token: token).status == 200)
        try await cluster.eventually("the desired state's checks are done too") {
            try await cluster.request("DELETE", "/v1/admin/tenants/\(gone)", token: admin).status == 202
        }
        #expect(try await cluster.request("DELETE", "/v1/admin/tenants/nobody", token: admin).status == 404)
        #expect(try await cluster.request("DELETE", "/v1/admin/tenants/\(stays)", token: token).status == 403)
        // Its token stops working within the authentication caches' lifetime (2 s), and its name
        // is not free until the keys are gone.
        try await cluster.eventually(timeout: .seconds(5), "the deleted tenant's token refused") {
            try await cluster.request("GET", "/v1/tenants/\(gone)/tasks", token: token).status == 403
        }
        let early = try await cluster.request("PUT", "/v1/admin/tenants/\(gone)", token: admin, json: TenantSettings())
        #expect(early.status == 409 && early.errorCode == "tenant_deleting", "\(early.status) \(early.text)")

        try await cluster.eventually(timeout: .seconds(20), "every key of the deleted tenant removed") {
            try await Self.traces(of: gone, redis: cluster.redis).isEmpty
        }
        #expect(try await Self.traces(of: gone, redis: cluster.redis).isEmpty)
        // Its agent was told to go and cannot come back.
        try await cluster.eventually("the agent's session closed") {
            let nodes = try await cluster.request("GET", "/v1/tenants/\(gone)/nodes", token: token)
            return nodes.status == 403 || nodes.status == 401
        }

        // The neighbour lost nothing: its task, its idempotency key, its agent (also `edge-1`).
        #expect(try await cluster.waitForState(tenant: stays, token: neighbourToken, id: neighbourTask, ["SUCCEEDED"]).state == "SUCCEEDED")
        let after = try await cluster.submit(tenant: stays, token: neighbourToken, TaskSubmission(command: ["true"]))
        #expect(try await cluster.waitForState(tenant: stays, token: neighbourToken, id: after, ["SUCCEEDED"], timeout: .seconds(10)).state == "SUCCEEDED")
        let replay = try await cluster.request(
            "POST", "/v1/tenants/\(stays)/tasks", token: neighbourToken, json: TaskSubmission(command: ["true"]), headers: keyed)
        #expect(replay.status == 200, "the neighbour's idempotency key was lost: \(replay.status) \(replay.text)")

        let list = try JSONDecoder().decode(TenantList.self, from: try await cluster.request("GET", "/v1/admin/tenants", token: admin).body)
        #expect(list.tenants.map(\.tenant) == [stays])
        let audit = try JSONDecoder().decode(AuditPage.self, from: try await cluster.request("GET", "/v1/admin/audit?limit=5", token: admin).body)
        #expect(audit.entries.contains { $0.action == "tenant_deletion_started" && $0.tenant == gone })
        #expect(audit.entries.contains { $0.action == "tenant_deleted" && $0.tenant == gone && $0.by == "shard-a" })

        // The name is free again: a new tenant, new tokens; the old token means nothing.
        let again = try await cluster.request("PUT", "/v1/admin/tenants/\(gone)", token: admin, json: TenantSettings())
        #expect(again.status == 201, "\(again.status) \(again.text)")
        let stale = try await cluster.request("GET", "/v1/tenants/\(gone)/tasks", token: token)
        #expect(stale.status == 403, "\(stale.status) \(stale.text)")
    }
}
