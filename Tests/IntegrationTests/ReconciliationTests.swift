import FluxAPI
import FluxTesting
import Foundation
import Testing

/// Desired-state reconciliation on real processes (issue 11): a shard, real agents running real
/// check and apply commands against files, a real Redis. Every bound is counted from what the
/// agents' commands themselves wrote, not from what the shard says it did.
@Suite("Reconciliation end to end", .serialized)
struct ReconciliationTests {
    /// A directory the commands mark, and the desired state over it: node X is in sync when
    /// `DIR/X.marker` exists; the apply logs its start and end with nanosecond times.
    struct Markers {
        let directory: URL

        init(_ endpoint: some FluxEndpoint) throws {
            directory = endpoint.directory.appendingPathComponent("markers-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        func path(_ node: String) -> String { directory.appendingPathComponent("\(node).marker").path }
        var log: String { directory.appendingPathComponent("apply.log").path }

        func create(_ nodes: [String]) {
            for node in nodes { FileManager.default.createFile(atPath: path(node), contents: Data()) }
        }

        func remove(_ node: String) throws { try FileManager.default.removeItem(atPath: path(node)) }
        func exists(_ node: String) -> Bool { FileManager.default.fileExists(atPath: path(node)) }

        /// An apply that logs `start NODE T`, sleeps, optionally fails, creates the marker and logs `end NODE T`.
        func apply(sleep: Double = 0, failOn pattern: String? = nil, touch: Bool = true) -> [String] {
            let fail = pattern.map { "case $FLUX_NODE in \($0)) echo fail $FLUX_NODE $(date +%s%N) >> \(log); exit 7;; esac; " } ?? ""
            let mark = touch ? "touch \(directory.path)/$FLUX_NODE.marker; " : ""
            return ["sh", "-c", "echo start $FLUX_NODE $(date +%s%N) >> \(log); \(fail)sleep \(sleep); \(mark)echo end $FLUX_NODE $(date +%s%N) >> \(log)"]
        }

        var check: [String] { ["sh", "-c", "test -f \(directory.path)/$FLUX_NODE.marker"] }

        /// Lines of the apply log as (event, node, nanoseconds).
        func events() -> [(event: String, node: String, at: Int64)] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 3, let at = Int64(parts[2]) else { return nil }
                return (String(parts[0]), String(parts[1]), at)
            }
        }

        /// Most applies running at once, overall and per zone (zone = node name up to its first `-`).
        func peakConcurrency() -> (total: Int, perZone: Int) {
            var running: [String: Int] = [:]
            var total = 0, peak = 0, peakZone = 0
            for event in events().sorted(by: { $0.at < $1.at }) where event.event != "fail" {
                let zone = String(event.node.prefix { $0 != "-" })
                let delta = event.event == "start" ? 1 : -1
                running[zone, default: 0] += delta
                total += delta
                peak = max(peak, total)
                peakZone = max(peakZone, running[zone] ?? 0)
            }
            return (peak, peakZone)
        }

        func applies(_ node: String) -> Int { events().filter { $0.event == "start" && $0.node == node }.count }
    }

    // MARK: helpers

    static func put(
        _ endpoint: some FluxEndpoint, tenant: String = "acme", token: String, _ name: String, _ spec: DesiredStateSpec
    ) async throws -> DesiredStateView {
        let response = try await endpoint.request("PUT", "/v1/tenants/\(tenant)/desired/\(name)", token: token, json: spec)
        guard [200, 201].contains(response.status) else { throw HarnessError("PUT desired answered \(response.status): \(response.text)") }
        return try JSONDecoder().decode(DesiredStateView.self, from: response.body)
    }

    static func nodes(
        _ endpoint: some FluxEndpoint, tenant: String = "acme", token: String, _ name: String
    ) async throws -> [String: DesiredNodeView] {
        let response = try await endpoint.request("GET", "/v1/tenants/\(tenant)/desired/\(name)/nodes", token: token)
        let list = try JSONDecoder().decode(DesiredNodeList.self, from: response.body)
        return Dictionary(uniqueKeysWithValues: list.nodes.map { ($0.node, $0) })
    }

    static func waitFor(
        _ endpoint: some FluxEndpoint, tenant: String = "acme", token: String, _ name: String, timeout: Duration = .seconds(30),
        _ what: String,
        _ condition: @escaping ([String: DesiredNodeView]) -> Bool
    ) async throws -> [String: DesiredNodeView] {
        var last: [String: DesiredNodeView] = [:]
        do {
            try await endpoint.eventually(timeout: timeout, what) {
                last = (try? await nodes(endpoint, tenant: tenant, token: token, name)) ?? [:]
                return condition(last)
            }
        } catch {
            throw HarnessError("\(error)\nlast node states: \(last.values.map { "\($0.node)=\($0.state)/\($0.reason)" }.sorted())")
        }
        return last
    }

    /// Every node in sync — or in the middle of the routine re-check of a node that was: with a
    /// 1 s interval some node is always re-checking, so "all IN_SYNC at one poll" may never be seen.
    static func allInSync(_ nodes: [String]) -> ([String: DesiredNodeView]) -> Bool {
        { views in
            nodes.allSatisfy { node in
                guard let view = views[node] else { return false }
                return view.state == "IN_SYNC" || (view.state == "CHECKING" && view.reason == "check_due" && view.lastExitCode == 0)
            }
        }
    }

    // MARK: tests

    @Test func driftOnOneNodeIsDetectedRemediatedAndVerified() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        let nodes = ["edge-1", "edge-2", "edge-3"]
        markers.create(nodes)
        for node in nodes { try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: node) }
        let spec = DesiredStateSpec(check: markers.check, apply: markers.apply(), intervalSeconds: 1, verifyEverySeconds: 1)
        let created = try await Self.put(cluster, token: token, "app-version", spec)
        #expect(created.generation == 1)
        _ = try await Self.waitFor(cluster, token: token, "app-version", "all in sync", Self.allInSync(nodes))
        #expect(markers.events().isEmpty, "nothing drifted, yet an apply ran")

        try markers.remove("edge-2")
        let removedAtMs = Int64(Date().timeIntervalSince1970 * 1_000)
        let drifted = try await Self.waitFor(cluster, token: token, "app-version", "edge-2 drift detected") { ($0["edge-2"]?.drifts ?? 0) >= 1 }
        // One interval (1 s) until the next check is due, plus the check's own round trip, which
        // on two busy cores can take a few seconds: far from the minutes a missed interval costs.
        let detectedAfterMs = (drifted["edge-2"]?.lastDriftAtMs ?? .max) - removedAtMs
        #expect(detectedAfterMs < 5_000, "drift seen \(detectedAfterMs) ms after the marker went")
        let synced = try await Self.waitFor(cluster, token: token, "app-version", "edge-2 in sync again") {
            $0["edge-2"]?.state == "IN_SYNC" && $0["edge-2"]?.reason == "verified"
        }
        #expect(markers.exists("edge-2"))
        #expect(markers.applies("edge-2") == 1 && markers.applies("edge-1") == 0 && markers.applies("edge-3") == 0)

        let response = try await cluster.request("GET", "/v1/tenants/acme/desired/app-version/nodes/edge-2/timeline", token: token)
        let timeline = try JSONDecoder().decode(DesiredTimeline.self, from: response.body).entries
        let steps = timeline.map { "\($0.to):\($0.reason)" }
        let drift = try #require(steps.firstIndex(of: "DRIFTED:drift_detected"), "timeline: \(steps)")
        #expect(Array(steps[drift...].prefix(4)) == ["DRIFTED:drift_detected", "REMEDIATING:remediation_started", "VERIFYING:apply_succeeded", "IN_SYNC:verified"])
        #expect(steps.first == "UNKNOWN:discovered")
        #expect(timeline.allSatisfy { $0.shard == "shard-it" && $0.epoch >= 1 && $0.generation == 1 })

        // The remediation is an ordinary task, marked as such, with the item's idempotency key.
        let taskID = try #require(synced["edge-2"]?.lastRemediationTaskId)
        let task = try #require(try await cluster.task(tenant: "acme", token: token, id: taskID))
        #expect(task.state == "SUCCEEDED" && task.node == "edge-2")
        let explained = try await cluster.request("GET", "/v1/tenants/acme/tasks/\(taskID)/explain", token: token)
        let context = try #require(try JSONDecoder().decode(TaskExplanationView.self, from: explained.body).reconciliation)
        #expect(context.kind == "apply" && context.desired == "app-version")
        #expect(context.nodeState?.state == "IN_SYNC" && context.lastTransition != nil)
        // The state gauges are set at the end of each reconciliation round (every 500 ms).
        try await cluster.eventually("flux_desired_nodes shows 3 nodes in sync") {
            let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
            return metrics.value("flux_desired_nodes", ["tenant": "acme", "item": "app-version", "state": "IN_SYNC"]) == 3
        }
        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect(metrics.value("flux_drift_detected_total", ["tenant": "acme"]) == 1)
        #expect(metrics.value("flux_remediations_total", ["outcome": "verified"]) == 1)
        #expect(metrics.value("flux_reconcile_seconds_count") == 1)
    }

    @Test func anApplyThatDoesNotFixTheDriftFailsAtTheVerifyDeadline() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let spec = DesiredStateSpec(
            check: markers.check, apply: markers.apply(touch: false), intervalSeconds: 1, verifyDeadlineSeconds: 2,
            verifyEverySeconds: 1, retry: RetrySpec(maxAttempts: 3, backoff: "linear", baseDelayMs: 60_000, maxDelayMs: 60_000))
        _ = try await Self.put(cluster, token: token, "never-fixed", spec)
        let failed = try await Self.waitFor(cluster, token: token, "never-fixed", "FAILED") { $0["edge-1"]?.state == "FAILED" }
        let node = try #require(failed["edge-1"])
        #expect(node.reason == "verify_deadline")
        #expect(node.attempts == 1)
        #expect(node.lastExitCode == 1, "the check's exit code says why it is not in sync")
        #expect(markers.applies("edge-1") == 1)
        // The backoff (60 s) holds it: no second remediation within the next seconds.
        try await Task.sleep(for: .seconds(2))
        #expect(markers.applies("edge-1") == 1)
        #expect(try await Self.nodes(cluster, token: token, "never-fixed")["edge-1"]?.state == "FAILED")
        // Checks that find drift do not hurt the node's health: it is neither quarantined nor failing.
        let nodes = try JSONDecoder().decode(NodeList.self, from: try await cluster.request("GET", "/v1/tenants/acme/nodes", token: token).body).nodes
        #expect(nodes.first { $0.node == "edge-1" }?.quarantined == false)
    }

    @Test func remediationNeverExceedsMaxParallelOrMaxParallelPerDomain() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        let nodes = ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3"]
        for node in nodes {
            try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: node, zone: node.hasPrefix("a") ? "zone-a" : "zone-b")
        }
        let spec = DesiredStateSpec(
            check: markers.check, apply: markers.apply(sleep: 1), intervalSeconds: 1, verifyEverySeconds: 1, maxParallel: 3,
            maxParallelPerDomain: 2)
        _ = try await Self.put(cluster, token: token, "rollout", spec)
        _ = try await Self.waitFor(cluster, token: token, "rollout", timeout: .seconds(60), "all in sync", Self.allInSync(nodes))
        let peak = markers.peakConcurrency()
        #expect(peak.total <= 3 && peak.perZone <= 2, "peak \(peak) exceeds maxParallel 3 / per domain 2")
        #expect(peak.total >= 2, "the rollout ran one at a time (peak \(peak)): the bound was never exercised")
        #expect(nodes.allSatisfy { markers.applies($0) == 1 })
    }

    @Test func aZoneWhoseRemediationsFailHaltsWhileTheOtherCompletes() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        let nodes = ["a-1", "a-2", "a-3", "b-1", "b-2"]
        for node in nodes {
            try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: node, zone: node.hasPrefix("a") ? "zone-a" : "zone-b")
        }
        let spec = DesiredStateSpec(
            check: markers.check, apply: markers.apply(failOn: "a-*"), intervalSeconds: 1, verifyEverySeconds: 1, maxParallel: 4,
            maxParallelPerDomain: 2, haltDomainAfterFailures: 2,
            retry: RetrySpec(maxAttempts: 3, backoff: "linear", baseDelayMs: 60_000, maxDelayMs: 60_000))
        _ = try await Self.put(cluster, token: token, "zoned", spec)
        let states = try await Self.waitFor(cluster, token: token, "zoned", "zone-b in sync, zone-a halted") { views in
            Self.allInSync(["b-1", "b-2"])(views) && views.values.contains { $0.state == "HALTED_DOMAIN" }
        }
        try await Task.sleep(for: .seconds(2))
        let zoneAApplies = ["a-1", "a-2", "a-3"].map(markers.applies).reduce(0, +)
        #expect(zoneAApplies == 2, "after two failures zone-a must not be remediated further (ran \(zoneAApplies))")
        let halted = states.values.filter { $0.state == "HALTED_DOMAIN" }.map(\.node)
        #expect(halted.count == 1 && halted.allSatisfy { markers.applies($0) == 0 })
        #expect(states.values.filter { $0.state == "FAILED" }.allSatisfy { $0.reason == "apply_failed" && $0.lastExitCode == 7 })
    }

    @Test func theNewOwnerContinuesAfterKillNineWithoutATwinRemediation() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        let nodes = ["edge-1", "edge-2"]
        for node in nodes { try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: node) }
        let spec = DesiredStateSpec(check: markers.check, apply: markers.apply(sleep: 3), intervalSeconds: 1, verifyEverySeconds: 1)
        _ = try await Self.put(cluster, token: token, "survivor", spec)
        _ = try await Self.waitFor(cluster, token: token, "survivor", "remediation under way") { views in
            nodes.allSatisfy { views[$0]?.state == "REMEDIATING" }
        }
        try await cluster.eventually("applies started") { nodes.allSatisfy { markers.applies($0) == 1 } }
        cluster.shard.kill()
        try await cluster.restartShard()
        _ = try await Self.waitFor(cluster, token: token, "survivor", timeout: .seconds(45), "in sync after the crash", Self.allInSync(nodes))
        for node in nodes { #expect(markers.applies(node) == 1, "\(node) ran its remediation \(markers.applies(node)) times") }
    }

    @Test func anotherShardTakesOverMidRemediationThroughTheRouter() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"], leaseTTLMs: 3_000)
        defer { cluster.stopAll() }
        let view = try await cluster.clusterView()
        let tenant = RouterTests.tenantName { slot in view.leases.contains { $0.slot == slot && $0.holder == "shard-a" } }
        let (token, agentToken) = try await cluster.createTenant(tenant)
        let markers = try Markers(cluster)
        let nodes = ["edge-1", "edge-2"]
        for node in nodes { try await cluster.startAgent(tenant: tenant, token: token, agentToken: agentToken, node: node) }
        let spec = DesiredStateSpec(check: markers.check, apply: markers.apply(sleep: 3), intervalSeconds: 1, verifyEverySeconds: 1)
        _ = try await Self.put(cluster, tenant: tenant, token: token, "failover", spec)
        try await cluster.eventually("applies started on shard-a's watch") { nodes.allSatisfy { markers.applies($0) == 1 } }
        cluster.shards["shard-a"]!.shard.kill()
        _ = try await cluster.settled(members: ["shard-b"], timeout: .seconds(30))
        _ = try await Self.waitFor(cluster, tenant: tenant, token: token, "failover", timeout: .seconds(45), "in sync on shard-b", Self.allInSync(nodes))
        for node in nodes {
            #expect(markers.applies(node) == 1, "\(node) ran its remediation \(markers.applies(node)) times")
            let response = try await cluster.request("GET", "/v1/tenants/\(tenant)/desired/failover/nodes/\(node)/timeline", token: token)
            let entries = try JSONDecoder().decode(DesiredTimeline.self, from: response.body).entries
            #expect(entries.first { $0.to == "REMEDIATING" }?.shard == "shard-a")
            #expect(entries.last?.shard == "shard-b", "the new owner finished the work: \(entries.map { "\($0.to)@\($0.shard)" })")
            #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.epoch <= $1.epoch }, "epochs only grow")
        }
    }

    @Test func aPausedItemRunsNothingAndALateNodeIsBroughtInSync() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let markers = try Markers(cluster)
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        var spec = DesiredStateSpec(check: markers.check, apply: markers.apply(), intervalSeconds: 1, verifyEverySeconds: 1)
        spec.paused = true
        _ = try await Self.put(cluster, token: token, "later", spec)
        _ = try await Self.waitFor(cluster, token: token, "later", "paused") { $0["edge-1"]?.state == "PAUSED" }
        try await Task.sleep(for: .seconds(2))
        #expect(markers.events().isEmpty && !markers.exists("edge-1"), "a paused desired state ran its apply")
        let tasks = try await cluster.request("GET", "/v1/tenants/acme/tasks", token: token).text
        #expect(!tasks.contains("\"id\""), "a paused desired state submitted tasks: \(tasks)")

        let resumed = try await cluster.request("POST", "/v1/tenants/acme/desired/later:resume", token: token)
        #expect(resumed.status == 200)
        _ = try await Self.waitFor(cluster, token: token, "later", "edge-1 in sync", Self.allInSync(["edge-1"]))
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-late")
        _ = try await Self.waitFor(cluster, token: token, "later", "the late node in sync", Self.allInSync(["edge-1", "edge-late"]))
        #expect(markers.applies("edge-late") == 1)
    }

    @Test func desiredStateInputIsValidatedAndOwnedByItsTenant() async throws {
        let cluster = try await ShardHarness()
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let (other, _) = try await cluster.createTenant("other")
        func put(_ body: String, name: String = "item", token: String = token) async throws -> TestHTTPResponse {
            try await cluster.request("PUT", "/v1/tenants/acme/desired/\(name)", token: token, body: Data(body.utf8))
        }
        let valid = #"{"check":["true"],"apply":["true"]}"#
        let cases: [(String, String, Int, String)] = [
            (#"{"check":["true"],"apply":["true"],"intervalSeconds":0}"#, "item", 400, "intervalSeconds"),
            (#"{"check":[],"apply":["true"]}"#, "item", 400, "check"),
            (#"{"check":["true"],"apply":["true"],"maxParallel":-1}"#, "item", 400, "maxParallel"),
            (#"{"check":["true"],"apply":["true"],"nodes":["a"],"selector":{"zone":"z"}}"#, "item", 400, "nodes"),
            (#"{"check":["true"],"apply":["true"],"nodes":["Bad Name"]}"#, "item", 400, "nodes[0]"),
            (#"{"check":["true"],"apply":["true"],"bogus":1}"#, "item", 400, ""),
            (valid, "Bad_Name", 400, "name"),
        ]
        for (body, name, status, field) in cases {
            let response = try await put(body, name: name)
            #expect(response.status == status, "\(body) answered \(response.status): \(response.text)")
            if !field.isEmpty { #expect(response.text.contains("\"field\":\"\(field)\""), "\(body): \(response.text)") }
        }
        #expect(try await cluster.request("GET", "/v1/tenants/acme/desired", token: token).text == #"{"items":[]}"#, "a rejected PUT wrote something")
        #expect(try await put(valid).status == 201)
        #expect(try await put(valid).status == 200)
        #expect(try await put(valid, token: other).status == 403)
        #expect(try await cluster.request("GET", "/v1/tenants/acme/desired/item", token: other).status == 403)
        #expect(try await cluster.request("GET", "/v1/tenants/acme/desired/missing", token: token).status == 404)
        #expect(try await cluster.request("POST", "/v1/tenants/acme/desired/item:explode", token: token).status == 404)
        // Changing the check starts a new generation; changing a limit does not.
        let bumped = try JSONDecoder().decode(DesiredStateView.self, from: try await put(#"{"check":["false"],"apply":["true"]}"#).body)
        #expect(bumped.generation == 2)
        let same = try JSONDecoder().decode(DesiredStateView.self, from: try await put(#"{"check":["false"],"apply":["true"],"maxParallel":3}"#).body)
        #expect(same.generation == 2 && same.spec.maxParallel == 3)
        #expect(try await cluster.request("DELETE", "/v1/tenants/acme/desired/item", token: token).status == 204)
        #expect(try await cluster.request("DELETE", "/v1/tenants/acme/desired/item", token: token).status == 404)
    }
}
