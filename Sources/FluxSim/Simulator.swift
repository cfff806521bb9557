import FluxCore

/// A deterministic whole-system simulation over the scheduler (TigerBeetle's VOPR, in spirit):
/// simulated agents with latency and failure rates, liars, a zone brownout, poison tasks and a
/// tenant flood, all driven by one seed through a virtual-time event queue. The same
/// configuration always yields the same report, byte for byte.
public struct Simulator {
    enum Event {
        case arrivals
        case flood
        case tick
        case healthSweep
        case started(task: Int, attempt: Int)
        case finished(task: Int, attempt: Int, outcome: TaskOutcome)
    }

    let configuration: SimulationConfiguration
    var scheduler: Scheduler
    var events = EventQueue<Event>()
    var random: SplitMix64
    var now: Int64 = 0
    let tenantIDs: [TenantID]
    let nodeIDs: [NodeID]
    /// Per task: submission time and first dispatch (−1 until dispatched).
    var submittedAt: [Int64] = []
    var firstDispatchAt: [Int64] = []
    var priority: [UInt8] = []
    var tenantOf: [Int32] = []
    var nextTask = 0
    var floodSubmitted = 0
    var sweepCursor = 0
    var stats = SimulationStats()

    /// Prepares a run: tenants configured, nodes connected, first events scheduled.
    public init(configuration: SimulationConfiguration) {
        self.configuration = configuration
        scheduler = Scheduler(configuration: configuration.scheduler, expectedTasks: configuration.tasks)
        random = SplitMix64(seed: configuration.seed)
        tenantIDs = (0..<configuration.tenants).map { try! TenantID("tenant-\($0)") }
        nodeIDs = (0..<configuration.nodes).map { try! NodeID("node-\($0)") }
        let total = configuration.tasks + (configuration.has(.flood) ? configuration.tasks * 3 / 10 : 0)
        submittedAt.reserveCapacity(total)
        firstDispatchAt.reserveCapacity(total)
        priority.reserveCapacity(total)
        tenantOf.reserveCapacity(total)
        setUpFleet()
        events.schedule(.arrivals, at: 0)
        events.schedule(.tick, at: 0)
        events.schedule(.healthSweep, at: 1_000)
        if configuration.has(.flood) { events.schedule(.flood, at: SimulationConfiguration.floodStart) }
    }

    private mutating func setUpFleet() {
        // A tenant may hold a quarter of the global queue: a flood hits its own quota first and
        // cannot push the shard into DEGRADED for everyone.
        let queue = max(1_000, configuration.scheduler.maxWaitingTasks / 4)
        let limits = TenantConfiguration(
            maxQueued: queue, maxInFlight: configuration.nodes * configuration.capacityPerNode,
            cpuBudget: queue * 4, weight: 1)
        for tenant in tenantIDs { apply(.tenantConfigured(tenant, limits)) }
        for index in nodeIDs.indices {
            let ordinal = index / configuration.tenants
            apply(.nodeConnected(NodeDescriptor(
                id: nodeIDs[index], tenant: tenantIDs[index % configuration.tenants], zone: "zone-\(zone(of: index))",
                rack: "rack-\((ordinal / configuration.zones) % 10)", labels: ["class": ordinal % 3 == 0 ? "gpu" : "cpu"],
                capacity: configuration.capacityPerNode)))
        }
    }

    /// Runs to completion (every task terminal or suspended) or to a virtual-time cap.
    public mutating func run() -> SimulationReport {
        let horizon = Int64(Double(configuration.tasks) / configuration.arrivalsPerSecond * 1000) + 600_000
        while let (time, event) = events.next() {
            now = time
            if now > horizon { break }
            process(event)
            if isFinished { break }
        }
        return SimulationReport(configuration: configuration, stats: stats, endTime: now, simulator: self)
    }

    private var isFinished: Bool {
        nextTask >= configuration.tasks && floodDone && scheduler.heldTasks == stats.suspendedHeld
    }

    private var floodDone: Bool {
        !configuration.has(.flood) || floodSubmitted >= configuration.tasks * 3 / 10
    }

    private mutating func process(_ event: Event) {
        switch event {
        case .arrivals: submitArrivals()
        case .flood: submitFlood()
        case .tick:
            apply(.tick)
            events.schedule(.tick, at: now + configuration.tickInterval.wholeMilliseconds)
        case .healthSweep: sweepHealth()
        case .started(let task, let attempt): apply(.taskStarted(taskID(task), attempt: attempt))
        case .finished(let task, let attempt, let outcome):
            apply(.taskFinished(taskID(task), attempt: attempt, outcome: outcome))
        }
    }

    /// Submits the arrivals of the next 10 ms.
    private mutating func submitArrivals() {
        let perBatch = configuration.arrivalsPerSecond / 100
        let count = Int(perBatch) + (random.nextUnitDouble() < perBatch - Double(Int(perBatch)) ? 1 : 0)
        for _ in 0..<min(count, configuration.tasks - nextTask) {
            submit(tenant: Int(random.next() % UInt64(configuration.tenants)), priority: Self.drawPriority(&random))
            nextTask += 1
        }
        if nextTask < configuration.tasks { events.schedule(.arrivals, at: now + 10) }
    }

    /// The flooding tenant (tenant 0) sends its burst in 10 ms steps.
    private mutating func submitFlood() {
        let total = configuration.tasks * 3 / 10
        let steps = Int(SimulationConfiguration.floodLength / 10)
        for _ in 0..<min(total / steps + 1, total - floodSubmitted) {
            submit(tenant: 0, priority: UInt8(5 + random.next() % 3))
            floodSubmitted += 1
        }
        if floodSubmitted < total { events.schedule(.flood, at: now + 10) }
    }

    private mutating func submit(tenant: Int, priority: UInt8) {
        let number = submittedAt.count
        submittedAt.append(now)
        firstDispatchAt.append(-1)
        self.priority.append(priority)
        tenantOf.append(Int32(tenant))
        let spec = TaskSpec(
            id: taskID(number), tenant: tenantIDs[tenant], priority: PriorityClass.all[Int(priority)],
            cpuCost: 1, target: number % 10 == 0 ? .selector(LabelSelector(["class": "gpu"])) : .any,
            timeout: .seconds(30))
        apply(.taskSubmitted(spec))
    }

    /// 5 % P0, 15 % P1–P3, 40 % P4–P6, 40 % P7–P10.
    static func drawPriority(_ random: inout SplitMix64) -> UInt8 {
        let draw = random.next() % 100
        switch draw {
        case 0..<5: return 0
        case 5..<20: return UInt8(1 + draw % 3)
        case 20..<60: return UInt8(4 + draw % 3)
        default: return UInt8(7 + draw % 4)
        }
    }

    func taskID(_ number: Int) -> TaskID { try! TaskID("task-\(number)") }

    static func number(_ id: some StringProtocol) -> Int {
        var value = 0
        for byte in id.utf8 where byte >= 0x30 && byte <= 0x39 { value = value * 10 + Int(byte - 0x30) }
        return value
    }

    mutating func apply(_ event: SchedulerEvent) {
        let decisions = scheduler.handle(event, now: Timestamp(milliseconds: now))
        stats.events += 1
        for decision in decisions { observe(decision) }
    }
}
