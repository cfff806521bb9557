import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Logging
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

    @Test func onlyTheRouterNamesTasks() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let shard = try #require(cluster.shards["shard-a"])
        let (owner, intruder) = Self.sameSlotPair()
        let (ownerToken, _) = try await cluster.createTenant(owner)
        let (intruderToken, _) = try await cluster.createTenant(intruder)
        let chosen = "abcdefghjkmnpq0"
        let body = try JSONEncoder().encode(TaskSubmission(command: ["true"]))

        // Straight to a shard, a made-up id is refused and nothing is written.
        let direct = try await shard.request("POST", "/v1/tenants/\(owner)/tasks", token: ownerToken, body: body, headers: ["X-Flux-Task-Id": chosen])
        #expect(direct.status == 400 && direct.errorField == "X-Flux-Task-Id", "\(direct.status) \(direct.text)")
        #expect(try await cluster.task(tenant: owner, token: ownerToken, id: chosen) == nil)

        // Through the router, a client's id is dropped: two tenants sending the same one both get
        // fresh ids, and neither learns whether the other's id exists (no 409 oracle).
        var ids: [String] = []
        for (tenant, token) in [(owner, ownerToken), (intruder, intruderToken)] {
            let response = try await cluster.request("POST", "/v1/tenants/\(tenant)/tasks", token: token, body: body, headers: ["X-Flux-Task-Id": chosen])
            #expect(response.status == 202, "\(response.status) \(response.text)")
            ids.append(try JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id)
        }
        #expect(!ids.contains(chosen) && ids[0] != ids[1])

        // With the router's signature, a repeat is the same write and another body is a conflict.
        let redis = RedisClient(configuration: shard.redis, logger: Logger(label: "test"))
        defer { Task { await redis.close() } }
        let id = TaskIDs.generate()
        let signature = try await TaskIDSigner(redis: redis).sign(tenant: owner, id: id)
        let signed = ["X-Flux-Task-Id": id, "X-Flux-Task-Id-Signature": signature]
        let path = "/v1/tenants/\(owner)/tasks"
        #expect(try await shard.request("POST", path, token: ownerToken, body: body, headers: signed).status == 202)
        #expect(try await shard.request("POST", path, token: ownerToken, body: body, headers: signed).status == 202)
        let other = try JSONEncoder().encode(TaskSubmission(command: ["false"]))
        let conflict = try await shard.request("POST", path, token: ownerToken, body: other, headers: signed)
        #expect(conflict.status == 409 && conflict.errorCode == "id_conflict", "\(conflict.text)")
        // Another tenant cannot use the owner's signature.
        let stolen = try await shard.request("POST", "/v1/tenants/\(intruder)/tasks", token: intruderToken, body: body, headers: signed)
        #expect(stolen.status == 400)
        #expect(try await cluster.task(tenant: owner, token: ownerToken, id: id)?.command == ["true"])
    }

    /// Task records of a tenant's slot: what a refused submission must not add to.
    static func taskRecords(_ cluster: ShardHarness, tenant: String) async throws -> Int {
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let slot = Slotting.slot(forTenant: tenant, slotCount: 256)
        return try await connection.send(RedisCommand("KEYS", "ff:{s\(slot)}:task:*")).array?.count ?? -1
    }

    @Test func theDoorRefusesSubmissionsOverRateOrQuotaAndWritesNothing() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant(
            "acme", settings: TenantSettings(maxQueued: 6, rateLimitPerSec: 2, burst: 4))
        let body = try JSONEncoder().encode(TaskSubmission(command: ["true"]))
        let path = "/v1/tenants/acme/tasks"
        for _ in 0..<4 { #expect(try await cluster.request("POST", path, token: token, body: body).status == 202) }
        let limited = try await cluster.request("POST", path, token: token, body: body)
        #expect(limited.status == 429 && limited.errorCode == "rate_limited", "\(limited.status) \(limited.text)")
        #expect(limited.headers["retry-after"] == "1", "\(limited.headers)")
        #expect(try await Self.taskRecords(cluster, tenant: "acme") == 4, "a refused submission was written")

        // A batch is admitted whole or not at all (two would fit the quota, not the rate).
        let batch = try JSONEncoder().encode(TaskBatch(tasks: Array(repeating: TaskSubmission(command: ["true"]), count: 2)))
        let refusedBatch = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, body: batch)
        #expect(refusedBatch.status == 429 && refusedBatch.errorCode == "rate_limited", "\(refusedBatch.text)")
        // One that could never pass (more than the burst) is told so, not asked to retry.
        let hopeless = try JSONEncoder().encode(TaskBatch(tasks: Array(repeating: TaskSubmission(command: ["true"]), count: 5)))
        let tooLarge = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, body: hopeless)
        #expect(tooLarge.status == 400 && tooLarge.errorCode == "batch_too_large", "\(tooLarge.text)")
        #expect(try await Self.taskRecords(cluster, tenant: "acme") == 4)

        // No agent yet: the tasks wait. Six outstanding is the quota, whatever the rate allows.
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await cluster.request("POST", path, token: token, body: body).status == 202)
        #expect(try await cluster.request("POST", path, token: token, body: body).status == 202)
        try await Task.sleep(for: .milliseconds(1_100))
        let overQuota = try await cluster.request("POST", path, token: token, body: body)
        #expect(overQuota.status == 429 && overQuota.errorCode == "quota_exceeded", "\(overQuota.text)")
        #expect(try await Self.taskRecords(cluster, tenant: "acme") == 6)

        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_submissions_refused_total", ["tenant": "acme", "code": "rate_limited"]) == 2)
        #expect(metrics.value("flux_submissions_refused_total", ["tenant": "acme", "code": "batch_too_large"]) == 1)
        #expect(metrics.value("flux_submissions_refused_total", ["tenant": "acme", "code": "quota_exceeded"]) == 1)

        // Finished tasks free the quota.
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        try await cluster.eventually("quota freed once the waiting tasks finished") {
            try await cluster.request("POST", path, token: token, body: body).status == 202
        }
    }

    /// The tenant's storage ledger (`ff:{sN}:stored`): its unfinished bytes and its day buckets.
    static func ledger(_ cluster: ShardHarness, tenant: String) async throws -> (unfinished: Int, days: [String: Int]) {
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let key = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: 256)).stored
        let pairs = try await connection.send(RedisCommand("HGETALL", key)).array?.compactMap(\.string) ?? []
        var unfinished = 0
        var days: [String: Int] = [:]
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            let (field, value) = (pairs[index], pairs[index + 1])
            if field == tenant { unfinished = Int(value) ?? -1 }
            if field.hasPrefix(tenant + "@") { days[String(field.dropFirst(tenant.count + 1))] = Int(value) ?? -1 }
        }
        return (unfinished, days)
    }

    @Test func theDoorRefusesATenantWhoseRecordsHoldItsStorageCap() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("hoard", settings: TenantSettings(maxStoredBytes: 1 << 20))
        // About 32 KB of command a task: some thirty of them fill 1 MiB.
        let bulky = try JSONEncoder().encode(TaskSubmission(command: ["echo"] + Array(repeating: String(repeating: "x", count: 7_900), count: 4)))
        let path = "/v1/tenants/hoard/tasks"
        var accepted = 0
        var refusal: TestHTTPResponse?
        for _ in 0..<80 {
            let response = try await cluster.request("POST", path, token: token, body: bulky)
            if response.status == 202 { accepted += 1; continue }
            refusal = response
            break
        }
        let refused = try #require(refusal, "80 tasks of 32 KB never reached a 1 MiB cap")
        #expect(refused.status == 429 && refused.errorCode == "storage_exceeded", "\(refused.status) \(refused.text)")
        #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1, "\(refused.headers)")
        #expect((25...33).contains(accepted), "accepted \(accepted) tasks of 32 KB under a 1 MiB cap")
        #expect(try await Self.taskRecords(cluster, tenant: "hoard") == accepted, "a refused submission was written")
        let charged = try await Self.ledger(cluster, tenant: "hoard")
        #expect(charged.unfinished > (1 << 20) - 40_000 && charged.unfinished <= 1 << 20, "\(charged)")

        // Finished tasks still hold their bytes until their records expire (7 days): they move
        // from the unfinished count to the day their records go, and the door still refuses.
        try await cluster.startAgent(tenant: "hoard", token: token, agentToken: agentToken, node: "edge-1")
        try await cluster.eventually("every task finished") {
            try await Self.ledger(cluster, tenant: "hoard").unfinished == 0
        }
        let finished = try await Self.ledger(cluster, tenant: "hoard")
        #expect(finished.days.count == 1 && finished.days.values.first ?? 0 >= charged.unfinished, "\(finished)")
        #expect(try await cluster.request("POST", path, token: token, body: bulky).errorCode == "storage_exceeded")

        // Once that day is past the records are gone and the door counts them no more: moved
        // back to a day long past, the bucket no longer counts, and the next submission passes.
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let key = SlotKeys(slot: Slotting.slot(forTenant: "hoard", slotCount: 256)).stored
        let (day, bytes) = try #require(finished.days.first)
        _ = try await connection.send(RedisCommand("HDEL", key, "hoard@\(day)"))
        _ = try await connection.send(RedisCommand("HSET", key, "hoard@\((Int(day) ?? 0) - 8)", String(bytes)))
        #expect(try await cluster.request("POST", path, token: token, body: bulky).status == 202)
    }

    @Test func aRequestLevelStoreErrorFailsThatRequestAloneAndPagesAreCappedInBytes() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let (otherToken, _) = try await cluster.createTenant("other")

        // Forty records of 30 KB commands: one page holds only about a megabyte of them.
        let big = Array(repeating: String(repeating: "x", count: 7_500), count: 4)
        var submitted: Set<String> = []
        for _ in 0..<40 { submitted.insert(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo"] + big))) }
        var listed: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let page = try JSONDecoder().decode(TaskPage.self, from: try await cluster.request("GET", "/v1/tenants/acme/tasks?limit=500\(query)", token: token).body)
            listed += page.tasks.map(\.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages >= 2, "40 records of 30 KB came back in one page")
        #expect(Set(listed) == submitted && listed.count == 40)

        // A damaged key of one tenant makes that tenant's listing fail, not the whole shard.
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: 256))
        _ = try await connection.send(RedisCommand("DEL", keys.tenantTasks("acme")))
        _ = try await connection.send(RedisCommand("SET", keys.tenantTasks("acme"), "damaged"))
        let failed = try await cluster.request("GET", "/v1/tenants/acme/tasks", token: token)
        #expect(failed.status == 503 && failed.errorCode == "store_error", "\(failed.status) \(failed.text)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await cluster.request("GET", "/readyz").status == 200, "one failed request put the shard in READ_ONLY")
        #expect(try await cluster.request("POST", "/v1/tenants/other/tasks", token: otherToken, json: TaskSubmission(command: ["true"])).status == 202)
    }

    @Test func aBatchIsNeverWrittenTwiceWhateverItsRetries() async throws {
        // The router's forward times out after 1 s against a frozen shard: the batch may or may
        // not have arrived, so the router writes it itself; when the shard thaws it processes the
        // same request. Both writes name the same items: each task exists once.
        let cluster = try await RouterHarness(shardIDs: ["shard-a"], leaseTTLMs: 10_000, routerArguments: ["--forward-timeout-ms", "1000"])
        defer { cluster.stopAll() }
        let shard = try #require(cluster.shards["shard-a"])
        let (token, _) = try await cluster.createTenant("acme")
        let batch = TaskBatch(tasks: (0..<20).map { TaskSubmission(command: ["echo", "\($0)"]) })
        let pid = try #require(shard.shard.pid)
        kill(pid, SIGSTOP)
        let frozenAnswer = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, json: batch)
        kill(pid, SIGCONT)
        #expect(frozenAnswer.status == 202, "a batch that may have been delivered must be written safely, got \(frozenAnswer.status) \(frozenAnswer.text)")
        let ids = try JSONDecoder().decode(TaskBatchAccepted.self, from: frozenAnswer.body).tasks.map(\.id)
        #expect(ids.count == 20 && Set(ids).count == 20)
        try await Task.sleep(for: .seconds(2))  // the thawed shard answers the request it held
        #expect(try await Self.taskRecords(shard, tenant: "acme") == 20, "the batch was written twice")

        // A client's retry under its idempotency key: same ids, nothing new, nothing charged twice.
        let keyed = TaskBatch(tasks: (0..<5).map { TaskSubmission(command: ["echo", "keyed \($0)"]) })
        var answers: [[String]] = []
        for _ in 0..<2 {
            let answer = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, json: keyed, headers: ["X-Flux-Idempotency-Key": "nightly-42"])
            #expect(answer.status == 202, "\(answer.text)")
            answers.append(try JSONDecoder().decode(TaskBatchAccepted.self, from: answer.body).tasks.map(\.id))
        }
        #expect(answers[0] == answers[1] && answers[0].count == 5)
        #expect(try await Self.taskRecords(shard, tenant: "acme") == 25)
        let connection = try await RedisConnection.connect(configuration: shard.redis)
        defer { Task { await connection.close() } }
        let live = try await connection.send(RedisCommand("HGET", SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: 256)).live, "acme")).string
        #expect(live == "25", "unfinished tasks counted \(live ?? "nil") times, not 25")
        // The same key with another body is a conflict, not a silent replay.
        let changed = TaskBatch(tasks: (0..<5).map { TaskSubmission(command: ["echo", "changed \($0)"]) })
        let conflict = try await cluster.request("POST", "/v1/tenants/acme/tasks:batch", token: token, json: changed, headers: ["X-Flux-Idempotency-Key": "nightly-42"])
        #expect(conflict.status == 409, "\(conflict.text)")
    }

    @Test func aFullRedisAnswersStoreFullAndTheShardStaysUp() async throws {
        // Redis as deployed: a memory limit and noeviction (full means refusing writes, never
        // evicting a lease or a record). Filling it makes submissions fail with a clear 503.
        let server = try await RedisServerProcess(extraArguments: ["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"])
        defer { server.stop() }
        let cluster = try await ShardHarness(redis: server.configuration, shardID: "full-shard")
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme", settings: TenantSettings(maxQueued: 100_000, rateLimitPerSec: 1_000_000, burst: 1_000_000))
        let big = TaskSubmission(command: ["echo"] + Array(repeating: String(repeating: "x", count: 7_500), count: 4))
        var statuses: [Int] = []
        var full: TestHTTPResponse?
        for _ in 0..<1_000 where full == nil {
            let response = try await cluster.request("POST", "/v1/tenants/acme/tasks", token: token, json: big)
            statuses.append(response.status)
            if response.status != 202 { full = response }
        }
        let refusal = try #require(full, "4 MB never filled up")
        #expect(refusal.status == 503 && refusal.errorCode == "store_full", "\(refusal.status) \(refusal.text)")
        #expect(statuses.dropLast().allSatisfy { $0 == 202 })
        #expect(cluster.shard.isRunning, "a full Redis crashed the shard")
        #expect(try await cluster.request("GET", "/healthz").status == 200)
    }

    @Test func degradedShedsTheFloodingTenantNotTheOneWithinItsShare() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (floodToken, _) = try await cluster.createTenant("flood")
        let (quietToken, _) = try await cluster.createTenant("quiet")
        // No agents: the flood's tasks wait, twenty of them.
        var waiting: [String] = []
        for _ in 0..<20 { waiting.append(try await cluster.submit(tenant: "flood", token: floodToken, TaskSubmission(command: ["true"]))) }
        for id in waiting { _ = try await cluster.waitForState(tenant: "flood", token: floodToken, id: id, ["ADMITTED"]) }
        let mode = try await cluster.request("PUT", "/v1/admin/scheduler/mode", token: cluster.adminToken, body: Data(#"{"mode":"DEGRADED"}"#.utf8))
        #expect(mode.status == 200, "\(mode.text)")

        // The door closes to the flood's P4–P10 within a turn or two; what it accepted in the
        // meantime an operator's DEGRADED sheds at admission.
        var refusal: TestHTTPResponse?
        try await cluster.eventually(timeout: .seconds(10), "the flood refused at the door") {
            let response = try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: TaskSubmission(command: ["true"]))
            if response.status == 202, let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id {
                let shed = try await cluster.waitForState(tenant: "flood", token: floodToken, id: id, ["REJECTED", "ADMITTED"])
                #expect(shed.state == "REJECTED" && shed.reason == "mode_degraded")
            }
            refusal = response
            return response.status == 429
        }
        #expect(refusal?.errorCode == "degraded", "\(refusal?.text ?? "")")
        let urgent = try await cluster.submit(tenant: "flood", token: floodToken, TaskSubmission(command: ["true"], priority: 3))
        #expect(try await cluster.waitForState(tenant: "flood", token: floodToken, id: urgent, ["REJECTED", "ADMITTED"]).state == "ADMITTED")
        for _ in 0..<3 {
            let id = try await cluster.submit(tenant: "quiet", token: quietToken, TaskSubmission(command: ["true"]))
            let admitted = try await cluster.waitForState(tenant: "quiet", token: quietToken, id: id, ["REJECTED", "ADMITTED"])
            #expect(admitted.state == "ADMITTED", "a tenant within its share was shed: \(admitted.reason ?? "")")
        }
    }

    /// DEGRADED's door shuts on the tenants that make the load: their outstanding work and
    /// their recent arrivals. A flood whose tasks have all finished still made it; the quiet
    /// tenant beside it, with one task running, did not. Judged on outstanding work alone, the
    /// quiet tenant held "the whole share" and was refused `429 degraded`
    /// (`cluster/bench --noisy`, 2026-12-02).
    @Test func degradedKeepsRefusingTheFloodNotTheQuietTenantWhenTheFloodsTasksHaveFinished() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (floodToken, floodAgentToken) = try await cluster.createTenant("flood")
        let (quietToken, quietAgentToken) = try await cluster.createTenant("quiet")
        try await cluster.startAgent(tenant: "flood", token: floodToken, agentToken: floodAgentToken, node: "edge-1", capacity: 16)
        try await cluster.startAgent(tenant: "quiet", token: quietToken, agentToken: quietAgentToken, node: "edge-1")
        let running = try await cluster.submit(tenant: "quiet", token: quietToken, TaskSubmission(command: ["sleep", "30"]))
        _ = try await cluster.waitForState(tenant: "quiet", token: quietToken, id: running, ["RUNNING"])
        let mode = try await cluster.request("PUT", "/v1/admin/scheduler/mode", token: cluster.adminToken, body: Data(#"{"mode":"DEGRADED"}"#.utf8))
        #expect(mode.status == 200, "\(mode.text)")
        // DEGRADED admits P0–P3: the flood's 40 urgent tasks run and finish.
        let urgent = TaskBatch(tasks: Array(repeating: TaskSubmission(command: ["true"], priority: 1), count: 40))
        let accepted = try await cluster.request("POST", "/v1/tenants/flood/tasks:batch", token: floodToken, json: urgent)
        #expect(accepted.status == 202, "\(accepted.text)")
        for id in try JSONDecoder().decode(TaskBatchAccepted.self, from: accepted.body).tasks.map(\.id) {
            #expect(try await cluster.waitForState(tenant: "flood", token: floodToken, id: id, ["SUCCEEDED", "FAILED", "REJECTED"]).state == "SUCCEEDED")
        }
        // The door's list is published every 250 ms: one published while the batch was still
        // being read could hold both (the flood's first task against the quiet tenant's one,
        // equal loads) and outlive the batch. Two periods later it is the load of now.
        try await Task.sleep(for: .milliseconds(600))
        let low = TaskSubmission(command: ["true"], priority: 6)
        try await cluster.eventually(timeout: .seconds(10), "the flood's P6 refused at the door") {
            try await cluster.request("POST", "/v1/tenants/flood/tasks", token: floodToken, json: low).errorCode == "degraded"
        }
        for index in 0..<5 {
            let response = try await cluster.request("POST", "/v1/tenants/quiet/tasks", token: quietToken, json: low)
            #expect(response.status == 202, "the quiet tenant's P6 number \(index) was refused: \(response.status) \(response.text)\n\(cluster.shard.logTail(lines: 30))")
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}

extension TenantIsolationTests {
    /// A tenant that keeps submitting while refused is answered by the router from its refusal
    /// cache, until the door's wait is over: Redis runs the door's script once, not every retry.
    @Test func theRouterAnswersARefusedTenantItselfUntilTheDoorsWaitIsOver() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("eager", settings: TenantSettings(rateLimitPerSec: 1, burst: 1))
        let path = "/v1/tenants/eager/tasks"
        let body = try JSONEncoder().encode(TaskSubmission(command: ["true"]))
        #expect(try await cluster.request("POST", path, token: token, body: body).status == 202)
        var codes: [String] = []
        for _ in 0..<5 { codes.append(try await cluster.request("POST", path, token: token, body: body).errorCode ?? "none") }
        #expect(codes == Array(repeating: "rate_limited", count: 5), "\(codes)")
        // Someone without the token learns nothing: the router authenticates before it answers.
        #expect(try await cluster.request("POST", path, token: "fft_guess", body: body).status == 403)

        let shard = try #require(cluster.shards["shard-a"])
        let shardMetrics = try PrometheusText(try await shard.request("GET", "/metrics").text)
        let routerMetrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        // The router writes submissions itself (issue 16): every refusal is its own; all but the
        // first few (while the door's 1 s wait lasts) come from its cache, without a script.
        let atShard = shardMetrics.value("flux_submissions_refused_total", ["tenant": "eager", "code": "rate_limited"]) ?? 0
        let atRouter = routerMetrics.value("flux_submissions_refused_total", ["tenant": "eager", "code": "rate_limited"]) ?? 0
        let remembered = routerMetrics.value("flux_router_remembered_refusals_total", [:]) ?? 0
        #expect(atShard == 0 && atRouter == 5, "shard \(atShard), router \(atRouter)")
        #expect(remembered >= 1 && remembered < 5, "\(remembered) of 5 answered from the cache")
        // The wait over (1 s at 1/s), the next submission goes through.
        try await cluster.eventually(timeout: .seconds(5), "admitted again after the door's wait") {
            try await cluster.request("POST", path, token: token, body: body).status == 202
        }
    }

    /// The router writes a tenant's submissions a share at a time (`TenantWriteGate`); the rest
    /// wait in a line of bounded length, and past it the answer is `429 writes_queued` at once,
    /// nothing written. A frozen Redis (SIGSTOP) holds the first write; the line then drains,
    /// every waiting submission written.
    @Test func aTenantsSubmissionsWaitInABoundedLineAtTheRouter() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        let cluster = try await RouterHarness(
            shardIDs: ["shard-a"], leaseTTLMs: 10_000,
            routerArguments: ["--tenant-writes-in-flight", "1", "--tenant-writes-waiting", "2"], redis: server.configuration)
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("eager")
        let path = "/v1/tenants/eager/tasks"
        let body = try JSONEncoder().encode(TaskSubmission(command: ["true"]))
        // Also fills the router's token cache (2 s): the calls below need no Redis to authenticate.
        #expect(try await cluster.request("POST", path, token: token, body: body).status == 202)
        let pid = try #require(server.pid)
        kill(pid, SIGSTOP)
        var frozen = true
        defer { if frozen { kill(pid, SIGCONT) } }
        // One written (held by the frozen Redis), two waiting behind it.
        let held = (0..<3).map { _ in Task { try await cluster.request("POST", path, token: token, body: body) } }
        try await Task.sleep(for: .milliseconds(800))
        let refused = try await cluster.request("POST", path, token: token, body: body)
        kill(pid, SIGCONT)
        frozen = false
        #expect(refused.status == 429 && refused.errorCode == "writes_queued", "\(refused.status) \(refused.text)")
        #expect(refused.headers["retry-after"] == "1")
        var ids: Set<String> = []
        for task in held {
            let response = try await task.value
            #expect(response.status == 202, "\(response.status) \(response.text)")
            if let id = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body).id { ids.insert(id) }
        }
        #expect(ids.count == 3)
        // Nothing of the refused one was written: the tenant holds exactly the four accepted.
        let listed = try await cluster.request("GET", "/v1/tenants/eager/tasks?limit=100", token: token)
        #expect(listed.status == 200)
        #expect((try? JSONDecoder().decode(TaskPage.self, from: listed.body))?.tasks.count == 4, "\(listed.text)")
    }

    /// The tenants of a slot share its ingest stream: the door keeps one tenant from standing
    /// more than `ingestBacklogLimit` entries in front of another's.
    @Test func aTenantsEntriesWaitingInTheIngestStreamAreBounded() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (flood, quiet) = Self.sameSlotPair()
        _ = try await cluster.createTenant(flood)
        let (quietToken, _) = try await cluster.createTenant(quiet)
        let client = RedisClient(configuration: cluster.redis)
        defer { Task { await client.close() } }
        let store = TaskStore(redis: client, slotCount: 256)
        let body = TaskSubmission(command: ["true"])
        // The shard frozen, nothing is admitted: the flood's entries pile up, to the limit.
        let pid = try #require(cluster.shard.pid)
        kill(pid, SIGSTOP)
        var accepted = 0
        var refusal: TaskStore.DoorRefusal?
        for _ in 0..<(TaskStore.ingestBacklogLimit + 50) {
            do {
                _ = try await store.submit(tenant: flood, submission: body, idempotencyKey: nil, nowMs: WallClock.nowMs())
                accepted += 1
            } catch let refused as TaskStore.DoorRefusal {
                refusal = refused
                break
            }
        }
        let quietOutcome = try await store.submit(tenant: quiet, submission: body, idempotencyKey: nil, nowMs: WallClock.nowMs())
        kill(pid, SIGCONT)
        #expect(accepted == TaskStore.ingestBacklogLimit)
        if case .ingestBacklog? = refusal {} else { Issue.record("the flood was refused with \(String(describing: refusal))") }
        guard case .created(let quietID) = quietOutcome else { Issue.record("the quiet tenant was refused: \(quietOutcome)"); return }
        // Thawed, the shard admits what waited: both tenants' entries, and the flood may submit again.
        _ = try await cluster.waitForState(tenant: quiet, token: quietToken, id: quietID, ["ADMITTED", "SUCCEEDED"])
        try await cluster.eventually("the flood's backlog is admitted and the door opens") {
            (try? await store.submit(tenant: flood, submission: body, idempotencyKey: nil, nowMs: WallClock.nowMs())) != nil
        }
    }

    /// One tenant submits four times what the shard may hold waiting; another, at a few percent
    /// of that, loses nothing: a full queue sheds the flood, not the tenant within its share.
    @Test func aFullQueueShedsTheFloodNotTheQuietTenant() async throws {
        let cluster = try await ShardHarness(extraArguments: ["--max-waiting-tasks", "50"])
        defer { cluster.stopAll() }
        let (floodToken, _) = try await cluster.createTenant("flood")
        let (quietToken, quietAgentToken) = try await cluster.createTenant("quiet")
        try await cluster.startAgent(tenant: "quiet", token: quietToken, agentToken: quietAgentToken, node: "edge-1")
        // No agent for the flood: its tasks wait, 50 of them fill the queue, the rest are shed.
        let flood = TaskBatch(tasks: Array(repeating: TaskSubmission(command: ["true"]), count: 200))
        let accepted = try await cluster.request("POST", "/v1/tenants/flood/tasks:batch", token: floodToken, json: flood)
        let floodIDs = try JSONDecoder().decode(TaskBatchAccepted.self, from: accepted.body).tasks.map(\.id)
        _ = try await cluster.waitForState(tenant: "flood", token: floodToken, id: try #require(floodIDs.last), ["SHED", "REJECTED", "ADMITTED"])

        for index in 0..<10 {
            let id = try await cluster.submit(tenant: "quiet", token: quietToken, TaskSubmission(command: ["echo", "\(index)"]))
            let task = try await cluster.waitForState(
                tenant: "quiet", token: quietToken, id: id, ["SUCCEEDED", "FAILED", "SHED", "REJECTED"], timeout: .seconds(15))
            #expect(task.state == "SUCCEEDED", "the quiet tenant's task \(index) was \(task.state) (\(task.reason ?? ""))")
        }
        // The flood paid: its newest waiting tasks made room.
        var displaced = 0
        for id in floodIDs {
            if let task = try await cluster.task(tenant: "flood", token: floodToken, id: id), task.reason == "queue_full_over_share" { displaced += 1 }
        }
        #expect(displaced >= 1, "no flood task was displaced for the quiet tenant")
    }
}

/// Node names are the tenant's own: two tenants may both call a machine `edge-1`.
@Suite("Node names per tenant", .serialized)
struct NodeNamesPerTenantTests {
    @Test(arguments: [false, true])
    func twoTenantsWithTheSameNodeNameBothGetTheirWorkDone(throughTheRouter: Bool) async throws {
        let (first, second) = TenantIsolationTests.sameSlotPair()
        let router = throughTheRouter ? try await RouterHarness(shardIDs: ["shard-a"]) : nil
        let shard = throughTheRouter ? nil : try await ShardHarness()
        defer { router?.stopAll(); shard?.stopAll() }
        let cluster: any FluxEndpoint = try #require(router ?? shard)
        var ids: [(String, String, String)] = []
        for tenant in [first, second] {
            let (token, agentToken) = try await cluster.createTenant(tenant)
            try await cluster.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: "edge-1")
            ids.append((tenant, token, ""))
        }
        for index in ids.indices {
            ids[index].2 = try await cluster.submit(tenant: ids[index].0, token: ids[index].1, TaskSubmission(command: ["echo", ids[index].0]))
        }
        for (tenant, token, id) in ids {
            let task = try await cluster.waitForState(tenant: tenant, token: token, id: id, ["SUCCEEDED", "FAILED"], timeout: .seconds(15))
            #expect(task.state == "SUCCEEDED" && task.result?.outputTail == tenant + "\n", "\(tenant): \(task)")
        }
    }
}
