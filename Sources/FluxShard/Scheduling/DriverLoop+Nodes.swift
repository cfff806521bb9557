import FluxAPI
import FluxCore

extension DriverLoop {
    /// The tenant's connected nodes for `GET …/nodes`.
    func nodeViews(tenant: String, now: Timestamp) -> [NodeView] {
        hellos.values.filter { $0.tenant == tenant }.sorted { $0.node < $1.node }.map { hello in
            NodeView(
                node: hello.node, zone: hello.zone, rack: hello.rack, labels: hello.labels, capacity: hello.capacity,
                running: 0, connected: true, agentReport: 1, observedFailureRate: 0, externalProbe: 1, score: 1,
                quarantined: false, selfReportIgnored: false)
        }
    }
}
