import FluxTesting
import Foundation
import Testing

/// deploy/prometheus: the real promtool accepts the scrape configuration and the rules, and the
/// rules' unit tests pass; every alert carries what on-call needs, is shown firing and not
/// firing, and reads only metrics the processes export.
@Suite("deploy/prometheus")
struct PrometheusRulesTests {
    /// The alerts issue 14 asks for (the router's own besides).
    static let expectedAlerts: Set = [
        "FluxForgeShardDown", "FluxForgeRouterDown", "FluxForgeSlotsUnowned", "FluxForgeShardDegraded", "FluxForgeShardReadOnly",
        "FluxForgeOldestTaskAge", "FluxForgeQuarantineStorm", "FluxForgeDomainFailureRate", "FluxForgeRedisLatency",
    ]
    let rules: [YAMLNode]

    init() throws {
        let groups = try ManifestFile.load("prometheus/fluxforge-alerts.yml").documents.first?["groups"].list ?? []
        try #require(groups.count == 1, "fluxforge-alerts.yml holds one rule group")
        rules = groups[0]["rules"].list
    }

    var alertNames: [String] { rules.compactMap { $0["alert"].string } }

    @Test(arguments: [["check", "config", "prometheus.yml"], ["check", "rules", "fluxforge-alerts.yml"], ["test", "rules", "fluxforge-alerts.test.yml"]])
    func promtoolPasses(_ arguments: [String]) async throws {
        let (status, output) = try await Promtool.run(arguments)
        #expect(status == 0, "promtool \(arguments.joined(separator: " ")) exited \(status):\n\(output)")
    }

    @Test func theGroupHoldsTheIssuesAlertsOnceEach() {
        #expect(Set(alertNames) == Self.expectedAlerts, "\(alertNames)")
        #expect(alertNames.count == rules.count && Set(alertNames).count == alertNames.count, "a rule without a name, or a name twice")
    }

    @Test func everyAlertWaitsHasASeverityAndLinksItsRunbookEntry() throws {
        let anchors = try Runbook.anchors()
        for rule in rules {
            let name = rule["alert"].string ?? "?"
            let delay = rule["for"].string ?? ""
            #expect(delay.count >= 2 && delay.dropLast().allSatisfy(\.isNumber) && "smh".contains(delay.last!), "\(name): for \(delay)")
            #expect(["warning", "critical"].contains(rule["labels"]["severity"].string ?? ""), "\(name): severity")
            for key in ["summary", "description"] {
                #expect(rule["annotations"][key].string?.isEmpty == false, "\(name): no \(key)")
            }
            let url = rule["annotations"]["runbook_url"].string ?? ""
            let prefix = "docs/runbook.md#"
            #expect(url.hasPrefix(prefix) && anchors.contains(String(url.dropFirst(prefix.count))),
                    "\(name): runbook_url \(url) names no heading of docs/runbook.md")
        }
    }

    @Test func everyAlertIsUnitTestedFiringAndNotFiring() throws {
        let file = try ManifestFile.load("prometheus/fluxforge-alerts.test.yml").documents.first
        #expect(file?["rule_files"].strings == ["fluxforge-alerts.yml"])
        let cases = (file?["tests"].list ?? []).flatMap { $0["alert_rule_test"].list }
        for name in alertNames {
            let mine = cases.filter { $0["alertname"].string == name }
            #expect(mine.contains { !$0["exp_alerts"].list.isEmpty }, "\(name) is never shown firing")
            #expect(mine.contains { $0["exp_alerts"].list.isEmpty }, "\(name) is never shown staying quiet")
        }
    }

    @Test func alertsReadOnlyExportedMetrics() throws {
        let readable = try ExportedMetrics.readable()
        for rule in rules {
            let names = PromQL.metricNames(in: rule["expr"].string ?? "")
            #expect(!names.isEmpty, "\(rule["alert"].string ?? "?") reads no metric")
            let unknown = names.subtracting(readable).sorted()
            #expect(unknown.isEmpty, "\(rule["alert"].string ?? "?") reads \(unknown), which no process exports (docs/metrics.md)")
        }
    }

    /// The router over HTTPS with the cluster CA, the shards' plain ops ports as cluster/up gives
    /// them (7500, 7501), and the job names the alerts match `up` on.
    @Test func theScrapeConfigurationFindsCluster_upsProcesses() throws {
        let configuration = try #require(try ManifestFile.load("prometheus/prometheus.yml").documents.first)
        #expect(configuration["rule_files"].strings == ["fluxforge-alerts.yml"])
        var jobs: [String: YAMLNode] = [:]
        for job in configuration["scrape_configs"].list { jobs[job["job_name"].string ?? ""] = job }
        let targets = { (job: String) in Set((jobs[job]?["static_configs"].list ?? []).flatMap { $0["targets"].strings ?? [] }) }
        let router = try #require(jobs["fluxforge-router"])
        #expect(router["scheme"].string == "https" && router["tls_config"]["ca_file"].string == "../../cluster/.run/ca/ca.crt")
        #expect(targets("fluxforge-router") == ["127.0.0.1:7300"])
        let shard = try #require(jobs["fluxforge-shard"])
        #expect((shard["scheme"].string ?? "http") == "http", "the ops port is plain HTTP")
        #expect(targets("fluxforge-shard") == ["127.0.0.1:7500", "127.0.0.1:7501"])
        for rule in rules {
            for job in Self.jobs(matchedIn: rule["expr"].string ?? "") {
                #expect(jobs[job] != nil, "\(rule["alert"].string ?? "?") matches job \(job), which prometheus.yml does not scrape")
            }
        }
    }

    /// The checker above must see metric names and nothing else.
    @Test func theMetricNameScannerSeesOnlyMetricNames() {
        #expect(PromQL.metricNames(in: #"up{job="fluxforge-shard"} == 0"#) == ["up"])
        #expect(PromQL.metricNames(in: "sum(flux_a) >= 3 and sum(flux_a) >= 0.2 * sum by (instance) (flux_b)") == ["flux_a", "flux_b"])
        #expect(PromQL.metricNames(in: #"histogram_quantile(0.99, sum by (instance, le) (rate(flux_c_bucket{operation="ping",x=~"$instance"}[$__rate_interval])))"#) == ["flux_c_bucket"])
        #expect(PromQL.metricNames(in: #"flux_d offset 5m / on(domain) group_left(zone) flux_e{domain=~"zone:.*"}"#) == ["flux_d", "flux_e"])
        #expect(PromQL.metricNames(in: #"label_replace(flux_f, "a", "$1", "b", "(not_a_metric)") > bool 1e3"#) == ["flux_f"])
        #expect(PromQL.metricNames(in: "max(${datasource_missing}) + Inf") == [])
    }

    /// The `job` values an expression matches exactly (`job="x"`).
    static func jobs(matchedIn expression: String) -> [String] {
        expression.components(separatedBy: "job=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }
}
