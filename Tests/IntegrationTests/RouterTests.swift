import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Synchronization
import Testing

/// The cluster behind its router (issue 6): clients and agents talk only to the router, shards
/// come, go and crash under a steady stream of submissions, and nothing accepted is lost or run
/// twice.
@Suite("Router", .serialized)
struct RouterTests {
    static let terminal: Set<String> = ["SUCCEEDED", "FAILED", "REJECTED", "SHED", "CANCELLED", "DEADLINE_EXCEEDED", "SUSPENDED"]

    /// A tenant created through the router, with its agent connected through the router.
    struct Tenant {
        var name: String
        var token: String
    }

    /// The first `t<N>` tenant name whose slot `wanted` says yes to.
    static func tenantName(_ wanted: (Int) -> Bool) -> String {
        (0..<100_000).lazy.map { "t\($0)" }.first { wanted(Slotting.slot(forTenant: $0, slotCount: 256)) }!
    }

    static func holder(ofTenant tenant: String, in view: ClusterView) -> String? {
        let slot = Slotting.slot(forTenant: tenant, slotCount: view.slotCount)
        return view.leases.first { $0.slot == slot }?.holder
    }

    /// Creates the tenant through the router and starts one agent for it, through the router.
    static func tenant(_ name: String, on cluster: RouterHarness, node: String) async throws -> Tenant {
        let (token, agentToken) = try await cluster.createTenant(
            name, settings: TenantSettings(maxQueued: 10_000, maxInFlight: 1_000, cpuBudget: 100_000))
        try await cluster.startAgent(tenant: name, token: token, agentToken: agentToken, node: node, capacity: 16)
        return Tenant(name: name, token: token)
    }

    @Test func theRouterSendsCallsAndAgentSessionsToEachTenantsOwner() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"])
        defer { cluster.stopAll() }
        let view = try await cluster.clusterView()
        let onA = Self.tenantName { slot in view.leases.contains { $0.slot == slot && $0.holder == "shard-a" } }
        let onB = Self.tenantName { slot in view.leases.contains { $0.slot == slot && $0.holder == "shard-b" } }
        let a = try await Self.tenant(onA, on: cluster, node: "edge-a")
        let b = try await Self.tenant(onB, on: cluster, node: "edge-b")
        for (tenant, owner) in [(a, "shard-a"), (b, "shard-b")] {
            let id = try await cluster.submit(tenant: tenant.name, token: tenant.token, TaskSubmission(command: ["sh", "-c", "echo on $FLUX_NODE"]))
            let done = try await cluster.waitForState(tenant: tenant.name, token: tenant.token, id: id, Self.terminal)
            #expect(done.state == "SUCCEEDED" && done.result?.outputTail == "on \(tenant.name == onA ? "edge-a" : "edge-b")\n")
            let timeline = try await cluster.timeline(tenant: tenant.name, token: tenant.token, id: id)
            #expect(timeline.last?.shard == owner, "\(timeline)")
        }
        // Another tenant's token is refused by the owner, through the router, as it would be directly.
        #expect(try await cluster.request("GET", "/v1/tenants/\(onB)/tasks", token: a.token).status == 403)
        #expect(try await cluster.request("GET", "/v1/tenants/Bad_Name/tasks", token: a.token).errorCode == "invalid_field")
        #expect(try await cluster.request("GET", "/v1/tenants/\(onA)/../../v1/admin/cluster", token: a.token).status == 404)

        let snapshot = try await cluster.request("GET", "/scheduler/debug/snapshot", token: cluster.adminToken)
        let aggregated = try JSONDecoder().decode(ClusterSnapshotView.self, from: snapshot.body)
        #expect(aggregated.shards.map(\.shard) == ["shard-a", "shard-b"] && aggregated.unreachable.isEmpty)
        #expect(aggregated.totals.slotsOwned == 256 && aggregated.totals.agentsConnected == 2, "\(aggregated.totals)")
        #expect(try await cluster.request("GET", "/scheduler/debug/snapshot", token: a.token).status == 403)
        let metrics = try await cluster.request("GET", "/metrics")
        #expect(metrics.text.contains("flux_router_agent_sessions 2"), "\(metrics.text)")
    }

    @Test func aSubmissionIsAcceptedWhileItsSlotHasNoOwner() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"], leaseTTLMs: 3_000)
        defer { cluster.stopAll() }
        let tenant = try await Self.tenant("solo", on: cluster, node: "edge-1")
        cluster.shards["shard-a"]!.shard.kill()
        // The member goes stale within 5 s; from then on nobody owns any slot, yet the router
        // writes submissions into the slot's ingest stream itself.
        try await cluster.eventually(timeout: .seconds(15), "router sees no owner") {
            (try? await cluster.request("GET", "/readyz"))?.status == 503
        }
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try await cluster.submit(tenant: tenant.name, token: tenant.token, TaskSubmission(command: ["echo", "queued"]))) }
        let batch = try await cluster.request("POST", "/v1/tenants/\(tenant.name)/tasks:batch", token: tenant.token,
            json: TaskBatch(tasks: Array(repeating: TaskSubmission(command: ["echo", "queued"]), count: 3)))
        #expect(batch.status == 202, "\(batch.text)")
        ids += try JSONDecoder().decode(TaskBatchAccepted.self, from: batch.body).tasks.map(\.id)
        #expect(try await cluster.request("POST", "/v1/tenants/\(tenant.name)/tasks", token: "wrong",
            json: TaskSubmission(command: ["true"])).status == 403, "the router authenticates what it writes itself")
        let reads = try await cluster.request("GET", "/v1/tenants/\(tenant.name)/tasks", token: tenant.token)
        #expect(reads.status == 503 && reads.errorCode == "no_owner", "\(reads.text)")
        // The shard comes back, admits what queued, and the agent (reconnecting through the
        // router) runs it.
        try cluster.shards["shard-a"]!.shard.start()
        _ = try await cluster.settled(members: ["shard-a"])
        for id in ids {
            let done = try await cluster.waitForState(tenant: tenant.name, token: tenant.token, id: id, Self.terminal)
            #expect(done.state == "SUCCEEDED", "\(done)")
        }
    }

    /// Issue 16: a submission crosses one server. The router writes it to the slot's ingest
    /// stream itself, so an owner that is alive but stalled (here frozen with SIGSTOP) delays
    /// nothing at the door: every submission is answered at once, and runs once the shard thaws.
    @Test func submissionsAreWrittenByTheRouterAndDoNotWaitForAStalledOwner() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"], leaseTTLMs: 30_000)
        defer { cluster.stopAll() }
        let tenant = try await Self.tenant("solo", on: cluster, node: "edge-1")
        let shard = try #require(cluster.shards["shard-a"]?.shard.pid)
        kill(shard, SIGSTOP)
        var ids: [String] = []
        let clock = ContinuousClock()
        for index in 0..<5 {
            let started = clock.now
            let answer = try await cluster.request("POST", "/v1/tenants/\(tenant.name)/tasks", token: tenant.token,
                json: TaskSubmission(command: ["echo", "\(index)"]))
            // Forwarded to the frozen owner, this would wait for the 15 s forward timeout.
            #expect(answer.status == 202 && clock.now - started < .seconds(3), "\(answer.status) after \(clock.now - started)")
            if let accepted = try? JSONDecoder().decode(SubmissionAccepted.self, from: answer.body) { ids.append(accepted.id) }
        }
        #expect(try await cluster.request("POST", "/v1/tenants/\(tenant.name)/tasks", token: "wrong",
            json: TaskSubmission(command: ["true"])).status == 403, "the router authenticates what it writes")
        kill(shard, SIGCONT)
        #expect(ids.count == 5)
        for id in ids {
            let done = try await cluster.waitForState(tenant: tenant.name, token: tenant.token, id: id, Self.terminal)
            #expect(done.state == "SUCCEEDED" && done.attempt == 1, "\(done)")
        }
        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_router_direct_submissions_total", [:]) == 5)
    }

    /// The owner's READ_ONLY mode, published with its heartbeat (every second), closes the
    /// router's door too, and opening it opens the router's.
    @Test func theRouterRefusesSubmissionsWhileTheOwnerIsReadOnly() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("solo")
        let shard = try #require(cluster.shards["shard-a"])
        #expect(try await shard.request("PUT", "/v1/admin/scheduler/mode", token: cluster.adminToken, body: Data(#"{"mode":"READ_ONLY"}"#.utf8)).status == 200)
        try await cluster.eventually(timeout: .seconds(10), "the router refuses submissions") {
            let answer = try? await cluster.request("POST", "/v1/tenants/solo/tasks", token: token, json: TaskSubmission(command: ["true"]))
            return answer?.status == 503 && answer?.errorCode == "read_only"
        }
        #expect(try await shard.request("PUT", "/v1/admin/scheduler/mode", token: cluster.adminToken, body: Data(#"{"mode":null}"#.utf8)).status == 200)
        try await cluster.eventually(timeout: .seconds(10), "the router accepts submissions again") {
            (try? await cluster.request("POST", "/v1/tenants/solo/tasks", token: token, json: TaskSubmission(command: ["true"])))?.status == 202
        }
    }

    @Test func killingAShardUnderLoadFailsNoSubmissionAndLosesNothing() async throws {
        let leaseTTLMs = 5_000
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b", "shard-c"], leaseTTLMs: leaseTTLMs)
        defer { cluster.stopAll() }
        let view = try await cluster.clusterView()
        var tenants: [Tenant] = []
        for shard in ["shard-a", "shard-b", "shard-c"] {
            let name = Self.tenantName { slot in view.leases.contains { $0.slot == slot && $0.holder == shard } }
            tenants.append(try await Self.tenant(name, on: cluster, node: "edge-\(shard)"))
        }
        let load = LoadGenerator(cluster: cluster, tenants: tenants)
        let running = Task { await load.run() }
        try await Task.sleep(for: .seconds(1))
        let killedAt = ContinuousClock.now
        cluster.shards["shard-b"]!.shard.kill()
        _ = try await cluster.settled(members: ["shard-a", "shard-c"], timeout: .seconds(30))
        let takeover = ContinuousClock.now - killedAt
        try await Task.sleep(for: .seconds(2))
        load.stop()
        await running.value
        #expect(takeover <= .milliseconds(leaseTTLMs + 2_000), "slots owned again after \(takeover)")
        try await Self.expectNothingLost(load, cluster: cluster)
    }

    @Test func aFourthShardJoinsUnderLoadAndAgentsFollowTheirSlots() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b", "shard-c"])
        defer { cluster.stopAll() }
        let before = try await cluster.clusterView()
        let after = SlotMap(members: ["shard-a", "shard-b", "shard-c", "shard-d"], slotCount: 256)
        // One tenant whose slot the new shard will take, and one that stays where it is.
        let mover = Self.tenantName { after.owner(ofSlot: $0) == "shard-d" }
        let stayer = Self.tenantName { slot in after.owner(ofSlot: slot) != "shard-d" }
        let tenants = [try await Self.tenant(mover, on: cluster, node: "edge-mover"), try await Self.tenant(stayer, on: cluster, node: "edge-stayer")]
        let load = LoadGenerator(cluster: cluster, tenants: tenants)
        let running = Task { await load.run() }
        try await Task.sleep(for: .seconds(1))
        try await cluster.addShard("shard-d")
        let joined = try await cluster.clusterView()
        try await Task.sleep(for: .seconds(2))
        load.stop()
        await running.value

        let holdersBefore = Dictionary(uniqueKeysWithValues: before.leases.map { ($0.slot, $0.holder) })
        let moved = joined.leases.filter { holdersBefore[$0.slot] != $0.holder }
        #expect(moved.allSatisfy { $0.holder == "shard-d" }, "only slots the new shard takes move")
        #expect(moved.count <= 256 / 4 + 5, "\(moved.count) of 256 slots moved (at most 1/4 + 2 points = 69)")
        #expect(Self.holder(ofTenant: mover, in: joined) == "shard-d")
        try await Self.expectNothingLost(load, cluster: cluster)
        // The mover's agent was told `moved`, came back through the router, and now runs the
        // tenant's work on the new owner.
        let last = try #require(load.accepted.withLock { $0.last { $0.tenant == mover } })
        #expect(try await cluster.timeline(tenant: mover, token: tenants[0].token, id: last.id).last?.shard == "shard-d")
        #expect(try #require(cluster.agent(mover, "edge-mover")).logTail(lines: 400).contains("moved"))
    }

    /// Every submission was accepted, every accepted task ended SUCCEEDED, and every attempt ran
    /// exactly once (the commands append `task attempt` to one file).
    static func expectNothingLost(_ load: LoadGenerator, cluster: RouterHarness) async throws {
        let failures = load.failures.withLock { $0 }
        let accepted = load.accepted.withLock { $0 }
        #expect(failures.isEmpty, "failed submissions: \(failures.prefix(5))")
        #expect(accepted.count >= 20, "the load ran: \(accepted.count) accepted")
        let tokens = Dictionary(uniqueKeysWithValues: load.tenants.map { ($0.name, $0.token) })
        for task in accepted {
            let done = try await cluster.waitForState(tenant: task.tenant, token: tokens[task.tenant]!, id: task.id, terminal, timeout: .seconds(60))
            #expect(done.state == "SUCCEEDED", "\(done.id): \(done.state) \(done.reason ?? "")")
        }
        let lines = ((try? String(contentsOfFile: load.executionLog, encoding: .utf8)) ?? "").split(separator: "\n")
        let runs = Dictionary(grouping: lines, by: { String($0) }).mapValues(\.count)
        #expect(runs.values.allSatisfy { $0 == 1 }, "an attempt ran twice: \(runs.filter { $0.value > 1 }.prefix(5))")
        #expect(Set(lines.map { String($0.split(separator: " ")[0]) }) == Set(accepted.map(\.id)), "every accepted task ran")
    }
}

/// Two loops submitting one task per request through the router, round-robin over tenants,
/// until stopped; records what was accepted and what failed.
final class LoadGenerator: Sendable {
    struct Accepted: Sendable { var tenant: String; var id: String }

    let cluster: RouterHarness
    let tenants: [RouterTests.Tenant]
    let executionLog: String
    let accepted = Mutex<[Accepted]>([])
    let failures = Mutex<[String]>([])
    /// Submissions answered `429 degraded` (and sent again later).
    let throttled = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    init(cluster: RouterHarness, tenants: [RouterTests.Tenant]) {
        self.cluster = cluster
        self.tenants = tenants
        self.executionLog = cluster.directory.appendingPathComponent("executions.log").path
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<2 {
                group.addTask { await self.loop(offset: worker) }
            }
        }
    }

    private func loop(offset: Int) async {
        let command = ["sh", "-c", "echo \"$FLUX_TASK_ID $FLUX_ATTEMPT\" >> \(executionLog)"]
        var index = offset
        while !stopped.load(ordering: .relaxed) {
            let tenant = tenants[index % tenants.count]
            index += 1
            do {
                let response = try await cluster.request("POST", "/v1/tenants/\(tenant.name)/tasks", token: tenant.token,
                    json: TaskSubmission(command: command, timeoutMs: 10_000))
                if response.status == 202, let body = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body) {
                    accepted.withLock { $0.append(Accepted(tenant: tenant.name, id: body.id)) }
                } else if response.status == 429, response.errorCode == "degraded" {
                    // Backpressure (a shard DEGRADED for overload on loaded cores), nothing
                    // written: a client waits and sends again; not a failed submission.
                    throttled.add(1, ordering: .relaxed)
                    try? await Task.sleep(for: .milliseconds(500))
                } else {
                    failures.withLock { $0.append("\(response.status) \(response.text)") }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension RouterTests {
    /// Issue 14: every admin operation works through the router. The scheduler mode is set on
    /// every live shard (or the one named), and survives a shard's restart (kept in Redis).
    @Test func theSchedulerModeIsSetThroughTheRouterAndSurvivesARestart() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"])
        defer { cluster.stopAll() }
        @Sendable func put(_ body: String, token: String? = nil) async throws -> TestHTTPResponse {
            try await cluster.request("PUT", "/v1/admin/scheduler/mode", token: token ?? cluster.adminToken, body: Data(body.utf8))
        }
        @Sendable func modes() async throws -> [String: String] {
            let answer = try await cluster.request("GET", "/scheduler/debug/snapshot", token: cluster.adminToken)
            let view = try JSONDecoder().decode(ClusterSnapshotView.self, from: answer.body)
            return Dictionary(uniqueKeysWithValues: view.shards.map { ($0.shard, $0.mode.mode) })
        }
        let all = try await put(#"{"mode":"DEGRADED"}"#)
        #expect(all.status == 200, "\(all.text)")
        let view = try JSONDecoder().decode(ClusterModeView.self, from: all.body)
        #expect(view.shards.mapValues(\.mode) == ["shard-a": "DEGRADED", "shard-b": "DEGRADED"] && view.unreachable.isEmpty, "\(view)")
        #expect(try await modes() == ["shard-a": "DEGRADED", "shard-b": "DEGRADED"])

        let one = try await put(#"{"mode":"READ_ONLY","shard":"shard-a"}"#)
        #expect(try JSONDecoder().decode(ClusterModeView.self, from: one.body).shards.keys.sorted() == ["shard-a"])
        #expect(try await modes() == ["shard-a": "READ_ONLY", "shard-b": "DEGRADED"])
        #expect(try await put(#"{"mode":"NORMAL","shard":"shard-z"}"#).errorCode == "shard_not_found")
        #expect(try await put(#"{"mode":"SLOW"}"#).errorField == "mode")
        #expect(try await put(#"{"mode":null}"#, token: "fft_not_admin").status == 403)

        // A restart re-applies the override kept in Redis.
        let shardA = try #require(cluster.shards["shard-a"])
        shardA.shard.kill()
        try shardA.shard.start()
        try await cluster.eventually(timeout: .seconds(30), "shard-a is back in READ_ONLY") {
            (try? await modes())?["shard-a"] == "READ_ONLY"
        }
        // Cleared through the router: both back to automatic, and a restart keeps it so.
        #expect(try await put(#"{"mode":null}"#).status == 200)
        #expect(try await modes() == ["shard-a": "NORMAL", "shard-b": "NORMAL"])
        let shardB = try #require(cluster.shards["shard-b"])
        shardB.shard.kill()
        try shardB.shard.start()
        try await cluster.eventually(timeout: .seconds(30), "shard-b answers again") { (try? await modes())?["shard-b"] != nil }
        #expect(try await modes()["shard-b"] == "NORMAL")
    }
}
