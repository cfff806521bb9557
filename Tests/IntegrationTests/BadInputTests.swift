import FluxAPI
import FluxRedis
import FluxTesting
import Foundation
import Testing

/// Every bad input gets a 4xx JSON problem naming the field, and nothing reaches Redis.
@Suite("Bad input", .serialized)
struct BadInputTests {
    /// Every key but the ingest streams (which the shard creates empty in the background),
    /// plus the total length of the ingest streams: what a submission would have to change.
    private func keyCount(_ cluster: ShardHarness) async throws -> [String] {
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let keys = try await connection.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string) ?? []
        let streams = keys.filter { $0.hasSuffix(":ingest") }
        var entries = 0
        for stream in streams { entries += Int(try await connection.send(RedisCommand("XLEN", stream)).int ?? 0) }
        return keys.filter { !$0.hasSuffix(":ingest") }.sorted() + ["ingest entries: \(entries)"]
    }

    @Test func malformedSubmissionsAreRejectedAndWriteNothing() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let before = try await keyCount(cluster)
        let cases: [(body: String, status: Int, code: String, field: String?)] = [
            ("{not json", 400, "invalid_json", nil),
            ("", 400, "invalid_json", nil),
            (#"{"priority":1}"#, 400, "missing_field", "command"),
            (#"{"command":"echo"}"#, 400, "invalid_field", "command"),
            (#"{"command":[1,2]}"#, 400, "invalid_field", "command[0]"),
            (#"{"command":["x"],"colour":"red"}"#, 400, "unknown_field", "colour"),
            (#"{"command":["x"],"priority":11}"#, 400, "invalid_field", "priority"),
            (#"{"command":["x"],"cpuCost":-1}"#, 400, "invalid_field", "cpuCost"),
            (#"{"command":["x"],"timeoutMs":999999999999}"#, 400, "invalid_field", "timeoutMs"),
            (#"{"command":["x"],"node":"NOT_A_NAME"}"#, 400, "invalid_field", "node"),
            (#"{"command":["x"],"retry":{"maxAttempts":1000}}"#, 400, "invalid_field", "retry.maxAttempts"),
            // Valid JSON with a fraction where an integer belongs names the field (issue 15, finding 11).
            (#"{"command":["x"],"priority":2.5}"#, 400, "invalid_field", "priority"),
            (#"{"command":["x"],"cpuCost":1.5}"#, 400, "invalid_field", "cpuCost"),
            (#"{"command":["x"],"retry":{"maxAttempts":2.5}}"#, 400, "invalid_field", "retry.maxAttempts"),
            (#"{"command":["x"],"timeoutMs":1e400}"#, 400, "invalid_field", "timeoutMs"),
        ]
        for item in cases {
            let response = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: Data(item.body.utf8))
            #expect(response.status == item.status, "\(item.body) → \(response.status) \(response.text)")
            #expect(response.errorCode == item.code, "\(item.body) → \(response.text)")
            #expect(response.errorField == item.field, "\(item.body) → \(response.text)")
        }
        let huge = Data(("{\"command\":[\"" + String(repeating: "a", count: 70_000) + "\"]}").utf8)
        let tooLarge = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: huge)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.errorCode == "too_large")
        let badBatch = #"{"tasks":[{"command":["ok"]},{"command":["x"],"priority":99}]}"#
        let batch = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, body: Data(badBatch.utf8))
        #expect(batch.status == 400)
        #expect(batch.errorField == "tasks[1].priority")
        #expect(try await keyCount(cluster) == before, "a rejected submission wrote to Redis")
    }

    @Test func namesAuthAndRoutesAreChecked() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let (other, _) = try await cluster.createTenant("bolt")
        let body = Data(#"{"command":["true"]}"#.utf8)
        #expect(try await cluster.request("POST", "/v1/tenants/acme/tasks", body: body).status == 401)
        #expect(try await cluster.request("POST", "/v1/tenants/acme/tasks", token: other, body: body).status == 403)
        #expect(try await cluster.request("POST", "/v1/tenants/Not_Valid/tasks", token: token, body: body).status == 403)
        #expect(try await cluster.request("GET", "/v1/tenants/acme/tasks/nonexistent0000", token: token).status == 404)
        #expect(try await cluster.request("GET", "/v1/nowhere", token: token).errorCode == "route_not_found")
        let badTenant = try await cluster.request("PUT", "/v1/admin/tenants/UPPER", token: cluster.adminToken, body: Data("{}".utf8))
        #expect(badTenant.status == 400)
        #expect(badTenant.errorField == "tenant")
        let notAdmin = try await cluster.request("PUT", "/v1/admin/tenants/zed", token: token, body: Data("{}".utf8))
        #expect(notAdmin.status == 403)
        let badLimit = try await cluster.request("GET", "/v1/tenants/acme/tasks?limit=100000", token: token)
        #expect(badLimit.errorField == "limit")
        let badKey = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body, headers: ["X-Flux-Idempotency-Key": String(repeating: "k", count: 200)])
        #expect(badKey.status == 400)
    }

    @Test func idempotencyKeyReplaysAndConflictsOverHTTP() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let key = ["X-Flux-Idempotency-Key": "order-42"]
        let body = Data(#"{"command":["true"],"priority":3}"#.utf8)
        let first = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: body, headers: key)
        #expect(first.status == 202)
        let id = try JSONDecoder().decode(SubmissionAccepted.self, from: first.body).id
        // Same body with keys reordered and whitespace: the same submission.
        let same = Data(#"{ "priority": 3, "command": ["true"] }"#.utf8)
        let replay = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: same, headers: key)
        #expect(replay.status == 200)
        #expect(replay.headers["x-flux-idempotent-replay"] == "true")
        #expect(try JSONDecoder().decode(TaskView.self, from: replay.body).id == id)
        let different = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, body: Data(#"{"command":["false"]}"#.utf8), headers: key)
        #expect(different.status == 409)
        #expect(different.errorCode == "idempotency_conflict")
    }

    @Test func listingPagesWithACursor() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        var submitted: [String] = []
        for _ in 0..<7 { submitted.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["true"]))) }
        var seen: [String] = []
        var cursor: String?
        for _ in 0..<10 {
            let query = "limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
            let response = try await cluster.request("GET", "/v1/tenants/acme/tasks?\(query)", token: token)
            let page = try JSONDecoder().decode(TaskPage.self, from: response.body)
            seen += page.tasks.map(\.id)
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(Set(seen) == Set(submitted))
        #expect(seen.count == submitted.count, "a task was listed twice")
    }
}
