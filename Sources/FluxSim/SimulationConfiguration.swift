public import FluxCore

/// A fault the simulator can inject. `all` enables every fault in one run.
public enum Scenario: String, CaseIterable, Sendable {
    /// Healthy fleet, steady arrivals.
    case baseline
    /// 2 % of nodes fail 80 % of their jobs while reporting themselves perfectly healthy.
    case liars
    /// One zone browns out for 30 s: 70 % of its jobs fail and its probes slow down.
    case zoneOutage = "zone-outage"
    /// 0.05 % of tasks crash whatever node runs them.
    case poison
    /// One tenant submits an extra 30 % of all tasks in two seconds.
    case flood
    /// All of the above at once.
    case all
}

/// The shape of one simulated run. Everything random derives from `seed`.
public struct SimulationConfiguration: Sendable {
    /// Nodes, spread round-robin over tenants, zones and racks.
    public var nodes: Int
    /// Tenants.
    public var tenants: Int
    /// Regular tasks (the flood adds its own on top).
    public var tasks: Int
    /// The seed of every random choice.
    public var seed: UInt64
    /// Faults to inject.
    public var scenario: Scenario
    /// Slots per node.
    public var capacityPerNode = 4
    /// Zones (racks per zone: 10).
    public var zones = 5
    /// Arrival rate as a fraction of fleet throughput (slots / mean job duration).
    public var load = 0.9
    /// Job duration is uniform in this range (milliseconds).
    public var durationRange: ClosedRange<Int64> = 200...1_800
    /// How often the runtime ticks the scheduler.
    public var tickInterval: Duration = .milliseconds(50)
    /// Scheduler thresholds; `maxWaitingTasks` defaults to a fifth of the tasks so that the flood
    /// exercises shedding and DEGRADED.
    public var scheduler: SchedulerConfiguration

    /// Creates a configuration.
    public init(nodes: Int, tenants: Int, tasks: Int, seed: UInt64, scenario: Scenario) {
        self.nodes = max(1, nodes)
        self.tenants = max(1, min(tenants, nodes))
        self.tasks = max(0, tasks)
        self.seed = seed
        self.scenario = scenario
        var scheduler = SchedulerConfiguration()
        scheduler.maxWaitingTasks = max(1_000, tasks / 5)
        self.scheduler = scheduler
    }

    func has(_ fault: Scenario) -> Bool { scenario == .all || scenario == fault }

    /// Arrivals per second that keep the fleet at `load`.
    var arrivalsPerSecond: Double {
        let meanDuration = Double(durationRange.lowerBound + durationRange.upperBound) / 2000
        return Double(nodes * capacityPerNode) / meanDuration * load
    }

    /// The zone that browns out, and when (milliseconds of virtual time).
    static let outageZone = 2
    static let outageStart: Int64 = 8_000
    static let outageEnd: Int64 = 38_000
    /// When the flood starts and how long it lasts.
    static let floodStart: Int64 = 5_000
    static let floodLength: Int64 = 2_000
}
