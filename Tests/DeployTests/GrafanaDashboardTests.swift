import FluxTesting
import Foundation
import Testing

/// deploy/grafana/fluxforge.json: Grafana is not packaged in Debian, so the dashboard is checked
/// for what an import needs and what makes a panel empty: unique ids, grid positions inside the
/// 24 columns and not overlapping, the `${datasource}` variable on every query, and every
/// query a non-empty expression over metrics the processes export. (PrometheusScrapeTests runs
/// every query on a real Prometheus.)
@Suite("deploy/grafana/fluxforge.json")
struct GrafanaDashboardTests {
    let dashboard: GrafanaDashboard

    init() throws { dashboard = try GrafanaDashboard.load() }

    var queryPanels: [GrafanaDashboard.Panel] { dashboard.allPanels.filter { !$0.isRow } }

    @Test func isADashboardOfARecentSchemaWithAPrometheusDataSourceVariable() {
        #expect((36...41).contains(dashboard.schemaVersion), "schemaVersion \(dashboard.schemaVersion)")
        #expect(!dashboard.title.isEmpty && !dashboard.uid.isEmpty)
        let variable = dashboard.templating.list.first { $0.name == "datasource" }
        #expect(variable?.type == "datasource" && variable?.query == "prometheus", "no `datasource` variable of Prometheus data sources")
    }

    @Test func panelIdsAreUniqueAndEveryPanelHasAPlaceOnTheGrid() throws {
        let ids = dashboard.allPanels.map(\.id)
        #expect(!ids.contains(nil), "a panel without id")
        #expect(Set(ids.compactMap { $0 }).count == ids.count, "panel ids repeat: \(ids.compactMap { $0 }.sorted())")
        var placed: [(String, GrafanaDashboard.GridPosition)] = []
        for panel in dashboard.allPanels {
            let title = panel.title ?? "panel \(panel.id ?? -1)"
            let position = try #require(panel.gridPos, "\(title) has no gridPos")
            #expect(position.w >= 1 && position.h >= 1 && position.x >= 0 && position.y >= 0 && position.x + position.w <= 24, "\(title): \(position)")
            for (other, taken) in placed where taken.overlaps(position) { Issue.record("\(title) overlaps \(other)") }
            placed.append((title, position))
        }
    }

    @Test func everyPanelQueriesTheChosenDataSourceWithNonEmptyExpressions() {
        #expect(queryPanels.count >= 10)
        for panel in queryPanels {
            let title = panel.title ?? "?"
            #expect(panel.datasource?.uid == "${datasource}", "\(title) does not use the ${datasource} variable")
            let targets = panel.targets ?? []
            #expect(!targets.isEmpty, "\(title) has no target")
            #expect(Set(targets.compactMap(\.refId)).count == targets.count, "\(title): refIds missing or repeated")
            for target in targets {
                #expect(target.expr?.trimmingCharacters(in: .whitespaces).isEmpty == false, "\(title): a target without expr")
                #expect(target.datasource.map { $0.uid == "${datasource}" } ?? true, "\(title): a target on another data source")
            }
        }
    }

    @Test func everyExpressionReadsOnlyExportedMetrics() throws {
        let readable = try ExportedMetrics.readable()
        for panel in queryPanels {
            for expression in (panel.targets ?? []).compactMap(\.expr) {
                let names = PromQL.metricNames(in: expression)
                #expect(!names.isEmpty, "\(panel.title ?? "?"): \(expression) reads no metric")
                let unknown = names.subtracting(readable).sorted()
                #expect(unknown.isEmpty, "\(panel.title ?? "?") reads \(unknown), which no process exports (docs/metrics.md)")
            }
        }
    }

    /// The rows issue 14 names, each with panels over the metrics they are about.
    @Test func coversQueueModesDomainsNodesDispatchLatencyAndRedis() {
        let expressions = queryPanels.flatMap { ($0.targets ?? []).compactMap(\.expr) }
        let rows = Set(dashboard.allPanels.filter(\.isRow).compactMap(\.title))
        let wanted: [(row: String, metric: String)] = [
            ("Queue", "flux_queue_depth"), ("Queue", "flux_queue_oldest_task_age_seconds"), ("Scheduler modes", "flux_scheduler_mode"),
            ("Failure domains", "flux_domain_failure_rate"), ("Nodes", "flux_quarantined_nodes"),
            ("Dispatch latency", "flux_dispatch_latency_seconds_bucket"), ("Redis", "flux_redis_command_duration_seconds_bucket"),
        ]
        for (row, metric) in wanted {
            #expect(rows.contains(row), "no row \(row): \(rows.sorted())")
            #expect(expressions.contains { PromQL.metricNames(in: $0).contains(metric) }, "no panel reads \(metric)")
        }
        for histogram in ["flux_dispatch_latency_seconds_bucket", "flux_redis_command_duration_seconds_bucket"] {
            #expect(expressions.contains { $0.hasPrefix("histogram_quantile(") && $0.contains(histogram) }, "no quantile of \(histogram)")
        }
    }
}
