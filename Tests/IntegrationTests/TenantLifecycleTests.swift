import FluxAPI
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
}
