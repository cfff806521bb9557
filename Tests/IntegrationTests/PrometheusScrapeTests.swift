import FluxAPI
import FluxTesting
import Foundation
import Testing

/// Issue 14: a real `prometheus` scrapes a real cluster (a router, two shards, one agent, one task
/// run to completion) every second with deploy/prometheus/fluxforge-alerts.yml loaded, and what
/// comes back through its HTTP API is what the cluster's state predicts (docs/metrics.md#alerts-and-dashboards).
@Suite("Prometheus scraping a cluster", .serialized)
struct PrometheusScrapeTests {
    static let deploy = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

    @Test func prometheusReadsTheClustersMetricsAndEvaluatesTheAlertRules() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["echo", "scraped"]))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        try #require(done.state == "SUCCEEDED", "\(done)")

        // Modes pinned by the operator, so the gauge's values are known whatever the machine's
        // load does to the automatic triggers: shard-a NORMAL, shard-b DEGRADED.
        for (shard, mode) in [("shard-a", "NORMAL"), ("shard-b", "DEGRADED")] {
            let set = try await cluster.request("PUT", "/v1/admin/scheduler/mode", token: cluster.adminToken, json: SchedulerModeRequest(mode: mode, shard: shard))
            try #require(set.status == 200, "\(set.text)")
        }
        let shards = cluster.shards.sorted { $0.key < $1.key }.map { (id: $0.key, port: $0.value.apiPort) }
        let prometheus = try await PrometheusServerProcess(configuration: Self.configuration(router: cluster.apiPort, shards: shards))
        defer { prometheus.stop() }
        let router = "127.0.0.1:\(cluster.apiPort)"

        // 1. Every target is scraped.
        let up = try await Self.poll("three targets up", prometheus) { try await prometheus.query("up") } until: {
            $0.count == 3 && $0.allSatisfy { $0.value == 1 }
        }
        #expect(Set(up.map { $0.labels["instance"] ?? "" }) == Set([router] + shards.map { "127.0.0.1:\($0.port)" }), "\(up)")
        // 2. Each shard's mode as the operator set it: NORMAL 0, DEGRADED 1.
        let modes = try await Self.poll("both shards' mode", prometheus) { try await prometheus.query("flux_scheduler_mode") } until: {
            $0.count == 2 && Set($0.map { $0.value }) == [0, 1]
        }
        let byShard = Dictionary(uniqueKeysWithValues: modes.compactMap { sample in sample.labels["shard"].map { ($0, sample.value) } })
        #expect(byShard == ["shard-a": 0, "shard-b": 1], "\(modes)")
        // 3. The task that ran, counted once it was durable.
        _ = try await Self.poll("a SUCCEEDED task counted", prometheus) {
            try await prometheus.query(#"sum(flux_tasks_terminal_total{state="SUCCEEDED"})"#)
        } until: { ($0.first?.value ?? 0) >= 1 }
        // 4. Its dispatch, in the histogram the dashboard's latency panels read.
        _ = try await Self.poll("a dispatch in the latency histogram", prometheus) {
            try await prometheus.query("sum(flux_dispatch_latency_seconds_count)")
        } until: { ($0.first?.value ?? 0) >= 1 }
        let unowned = try await prometheus.query("flux_router_unowned_slots")
        #expect(unowned.count == 1 && unowned.first?.value == 0 && unowned.first?.labels["instance"] == router, "\(unowned)")

        try await expectRulesLoadedAndFed(prometheus)
        try await expectDashboardQueriesAccepted(prometheus)
        try await expectShardDownPending(after: "shard-b", in: cluster, prometheus)
    }

    /// The rule group loaded and evaluated without error, over metrics the cluster serves.
    func expectRulesLoadedAndFed(_ prometheus: PrometheusServerProcess) async throws {
        let groups = try await Self.poll("the rules evaluated", prometheus) { try await prometheus.ruleGroups() } until: {
            $0.count == 1 && $0[0].rules.allSatisfy { $0.health != "unknown" }
        }
        #expect(groups[0].name == "fluxforge" && groups[0].file.hasSuffix("deploy/prometheus/fluxforge-alerts.yml"), "\(groups[0].file)")
        #expect(groups[0].rules.count >= 9 && groups[0].rules.allSatisfy { $0.type == "alerting" })
        let served = try await prometheus.metricNames()
        for rule in groups[0].rules {
            #expect(rule.health == "ok", "\(rule.name): \(rule.health) \(rule.lastError ?? "")")
            let missing = PromQL.metricNames(in: rule.query).subtracting(served)
            #expect(missing.isEmpty, "\(rule.name) reads \(missing.sorted()), which the cluster does not serve")
        }
    }

    /// Prometheus accepts every query of deploy/grafana/fluxforge.json (Grafana's variables filled in).
    func expectDashboardQueriesAccepted(_ prometheus: PrometheusServerProcess) async throws {
        let data = try Data(contentsOf: Self.deploy.appendingPathComponent("grafana/fluxforge.json"))
        let expressions = Self.expressions(in: try JSONSerialization.jsonObject(with: data))
        #expect(expressions.count >= 10)
        for expression in expressions {
            let filled = expression.replacingOccurrences(of: "$__rate_interval", with: "1m").replacingOccurrences(of: "$instance", with: ".*")
            do { try await prometheus.check(filled) } catch { Issue.record("dashboard query refused: \(error)") }
        }
    }

    /// A killed shard's scrape fails at once: `FluxForgeShardDown` goes pending for it alone.
    func expectShardDownPending(after shardID: String, in cluster: RouterHarness, _ prometheus: PrometheusServerProcess) async throws {
        let shard = try #require(cluster.shards[shardID])
        shard.shard.kill()
        let instance = "127.0.0.1:\(shard.apiPort)"
        let alerts = try await Self.poll("FluxForgeShardDown for \(shardID)", prometheus) { try await prometheus.alerts() } until: { alerts in
            alerts.contains { $0.labels["alertname"] == "FluxForgeShardDown" && $0.labels["instance"] == instance }
        }
        let down = alerts.filter { $0.labels["alertname"] == "FluxForgeShardDown" }
        #expect(down.count == 1 && down[0].state == "pending" && down[0].labels["severity"] == "warning" && down[0].labels["shard"] == shardID, "\(down)")
    }

    /// Scrapes the harness's router and shards (plain HTTP on loopback: the harness runs them
    /// without TLS) every second, with deploy/prometheus's job names and rule file.
    static func configuration(router: Int, shards: [(id: String, port: Int)]) -> String {
        let targets = shards.map { "      - targets: [\"127.0.0.1:\($0.port)\"]\n        labels: {shard: \($0.id)}" }
        return """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        rule_files:
          - \(deploy.appendingPathComponent("prometheus/fluxforge-alerts.yml").path)
        scrape_configs:
          - job_name: fluxforge-router
            static_configs:
              - targets: ["127.0.0.1:\(router)"]
          - job_name: fluxforge-shard
            static_configs:
        \(targets.joined(separator: "\n"))

        """
    }

    /// Every `expr` string anywhere in a decoded JSON value.
    static func expressions(in json: Any) -> [String] {
        if let object = json as? [String: Any] {
            return object.sorted { $0.key < $1.key }.flatMap { key, value in
                key == "expr" ? [value as? String].compactMap { $0 } : expressions(in: value)
            }
        }
        return (json as? [Any])?.flatMap { expressions(in: $0) } ?? []
    }

    /// Reads until `done` holds, at most `timeout`; the last reading. Fails with the last reading
    /// and Prometheus's log.
    static func poll<T>(
        _ what: String, _ prometheus: PrometheusServerProcess, timeout: Duration = .seconds(20),
        _ read: () async throws -> T, until done: (T) -> Bool
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        var last: String = "none"
        while ContinuousClock.now < deadline {
            do {
                let value = try await read()
                if done(value) { return value }
                last = "\(value)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("timed out waiting for \(what); last reading: \(last)\n--- prometheus log:\n\(prometheus.logTail())")
    }
}
