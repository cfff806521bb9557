import FluxAPI
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
}
