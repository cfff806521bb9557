@testable import FluxCore

/// Builders that keep tests short. Names are validated, so a typo fails loudly.
func tenant(_ name: String) -> TenantID { try! TenantID(name) }
func node(_ name: String) -> NodeID { try! NodeID(name) }
func task(_ name: String) -> TaskID { try! TaskID(name) }
func at(_ seconds: Double) -> Timestamp { Timestamp(milliseconds: Int64(seconds * 1000)) }

func spec(
    _ id: String, tenant name: String = "acme", priority: Int = 5, cpu: Int = 1,
    target: PlacementTarget = .any, timeout: Duration = .seconds(60), deadline: Timestamp? = nil,
    retry: RetryPolicy = .default
) -> TaskSpec {
    TaskSpec(
        id: task(id), tenant: tenant(name), priority: try! PriorityClass(priority), cpuCost: cpu, target: target,
        timeout: timeout, deadline: deadline, retryPolicy: retry)
}

func descriptor(
    _ name: String, tenant owner: String = "acme", zone: String = "z1", rack: String = "r1",
    labels: [String: String] = [:], capacity: Int = 1
) -> NodeDescriptor {
    NodeDescriptor(id: node(name), tenant: tenant(owner), zone: zone, rack: rack, labels: labels, capacity: capacity)
}

/// A scheduler with tenants configured and nodes connected at time zero.
func makeScheduler(
    configuration: SchedulerConfiguration = SchedulerConfiguration(),
    tenants: [String: TenantConfiguration] = ["acme": TenantConfiguration()],
    nodes: [NodeDescriptor] = [descriptor("n1")]
) -> Scheduler {
    var scheduler = Scheduler(configuration: configuration)
    for (name, limits) in tenants.sorted(by: { $0.key < $1.key }) {
        _ = scheduler.handle(.tenantConfigured(tenant(name), limits), now: .zero)
    }
    for node in nodes { _ = scheduler.handle(.nodeConnected(node), now: .zero) }
    return scheduler
}

extension Array where Element == SchedulerDecision {
    /// The task transitions, in order.
    var transitions: [TaskTransition] { compactMap(\.transition) }
    /// `(task, to)` pairs as strings, handy for exact expectations.
    var moves: [String] { transitions.map { "\($0.task):\($0.to.rawValue)" } }
    /// The dispatches as `task@node#attempt`.
    var dispatches: [String] {
        compactMap {
            if case .dispatched(let t, let node, let attempt, _) = $0 { return "\(t.task)@\(node)#\(attempt)" }
            return nil
        }
    }
}
