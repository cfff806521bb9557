import FluxAPI
import FluxCore

extension DriverLoop {
    /// The tenant's nodes for `GET …/nodes`: placement facts and every health component, as
    /// the core sees them now (connected nodes, and known ones that left with work in flight).
    func nodeViews(tenant: String, now: Timestamp) -> [NodeView] {
        guard let id = try? TenantID(tenant) else { return [] }
        let configuration = scheduler.configuration.health
        return scheduler.nodeSnapshots(tenant: id, now: now).map { snapshot in
            let hello = hellos[NodeKey(tenant: tenant, node: snapshot.node.rawValue)]
            return NodeView(
                node: snapshot.node.rawValue, zone: hello?.zone ?? Self.name(snapshot.zone), rack: hello?.rack ?? Self.name(snapshot.rack),
                labels: hello?.labels ?? [:], capacity: snapshot.capacity, running: snapshot.inFlight,
                connected: snapshot.isConnected, agentReport: snapshot.health.agentReport,
                observedFailureRate: snapshot.health.failureRate, externalProbe: snapshot.health.probe,
                score: snapshot.health.value, quarantined: snapshot.isQuarantined,
                selfReportIgnored: snapshot.consecutiveFailures >= configuration.consecutiveFailuresToDistrustReport)
        }
    }

    static func name(_ domain: FailureDomain) -> String {
        switch domain {
        case .zone(let zone): zone
        case .rack(_, let rack): rack
        }
    }

    /// True when `key` holds the attempt the frame names. Agents are not trusted: a result for
    /// another node's attempt (a confused or lying agent) must not finish someone else's task.
    /// Why a frame about `attempt` of `taskID` from the session `key` does not count, or nil when
    /// that session holds exactly this (tenant, node, task, attempt). A frame about a task the
    /// core does not hold, or held by another tenant's node of the same name, is never applied.
    func frameRejection(_ key: NodeKey, taskID: TaskID, attempt: Int, now: Timestamp) -> String? {
        guard let explanation = scheduler.explain(task: taskID, now: now) else { return "unknown_task" }
        guard explanation.tenant.rawValue == key.tenant else { return "other_tenant" }
        guard explanation.node?.rawValue == key.node, explanation.attempt == attempt else { return "not_holder" }
        return nil
    }
}
