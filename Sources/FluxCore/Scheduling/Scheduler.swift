import DequeModule
import HeapModule

/// The admission-controlled scheduler: a pure, deterministic state machine (docs/scheduler-design.md).
///
/// Events go in with the current time; decisions come out; nothing else happens. The same
/// events at the same times always give the same decisions, which is what replay tests and the
/// simulator rely on. See `Sources/FluxCore/README.md` for the pipeline and
/// `docs/scheduler-design.md` for every rule and default.
///
/// It is a value type holding large arrays: keep one instance and mutate it in place. Copying
/// it and then mutating either copy duplicates all task storage.
public struct Scheduler: Sendable {
    /// The thresholds in force.
    public let configuration: SchedulerConfiguration
    let agingMilliseconds: Int64
    var store: TaskStore
    var queues = WaitingQueues()
    var registry: NodeRegistry
    var tenants: [TenantState] = []
    var tenantIndex: [TenantID: UInt32] = [:]
    var policies: [RetryPolicy] = [.default]
    var policyIndex: [RetryPolicy: UInt32] = [.default: 0]
    /// Tenants with waiting tasks, in deficit-round-robin order.
    var activeTenants = Deque<UInt32>()
    var retryTimers = Heap<TimerEntry>()
    var timeoutTimers = Heap<TimerEntry>()
    var deadlineTimers = Heap<TimerEntry>()
    /// Distinct nodes on which a task's attempts crashed or were lost (poison detection).
    var poisonNodes: [UInt32: [UInt32]] = [:]
    var modes = ModeController()
    var inFlightTotal = 0
    var dispatchRound: UInt32 = 0
    /// Time never runs backwards inside the scheduler: an earlier `now` is treated as this one.
    var latest = Timestamp(milliseconds: Int64.min)

    /// Creates an empty scheduler. `expectedTasks` pre-sizes task storage (optional).
    public init(configuration: SchedulerConfiguration = SchedulerConfiguration(), expectedTasks: Int = 0) {
        self.configuration = configuration
        agingMilliseconds = max(1, configuration.agingInterval.wholeMilliseconds)
        store = TaskStore(reservingCapacity: expectedTasks)
        registry = NodeRegistry(configuration: configuration)
    }

    /// Applies one event at time `now` and returns what the runtime must do, in order.
    public mutating func handle(_ event: SchedulerEvent, now: Timestamp) -> [SchedulerDecision] {
        let now = max(now, latest)
        latest = now
        var out: [SchedulerDecision] = []
        switch event {
        case .tenantConfigured(let tenant, let configuration): configureTenant(tenant, configuration)
        case .tenantRemoved(let tenant): removeTenant(tenant, now: now, into: &out)
        case .nodeConnected(let descriptor): connectNode(descriptor, now: now, into: &out)
        case .nodeDisconnected(let tenant, let node): disconnectNode(tenant, node, now: now, into: &out)
        case .agentHealthReported(let tenant, let node, let report):
            reportHealth(tenant, node, .report(report), now: now, into: &out)
        case .probeCompleted(let tenant, let node, let result):
            reportHealth(tenant, node, .probe(result), now: now, into: &out)
        case .taskSubmitted(let spec): submit(spec, now: now, into: &out)
        case .taskRestored(let spec, let position): restore(spec, position, now: now, into: &out)
        case .taskStarted(let id, let attempt): start(id, attempt: attempt, into: &out)
        case .taskFinished(let id, let attempt, let outcome): finish(id, attempt: attempt, outcome: outcome, now: now, into: &out)
        case .taskCancelled(let id): cancel(id, now: now, into: &out)
        case .taskResumed(let id): resume(id, now: now, into: &out)
        case .tick: tick(now: now, into: &out)
        case .modeOverride(let mode): changeMode(modes.setOverride(mode), into: &out)
        case .overloadSignalled(let signal): changeMode(modes.observe(signal, configuration: configuration), into: &out)
        }
        return out
    }

    /// The current mode.
    public var mode: SchedulerMode { modes.current }

    func changeMode(_ change: ModeChange?, into out: inout [SchedulerDecision]) {
        guard let change else { return }
        out.append(.modeChanged(from: change.from, to: change.to, reason: change.reason))
    }
}

/// Per-tenant counters and fair-share state.
struct TenantState: Sendable {
    var id: TenantID
    var configuration: TenantConfiguration
    var isConfigured = true
    /// Waiting (ADMITTED) tasks.
    var waiting = 0
    /// Waiting, backing off or deferred; with `inFlight`, what `maxQueued` limits.
    var queued = 0
    var inFlight = 0
    /// Sum of `cpuCost` over queued and in-flight tasks: what `cpuBudget` limits.
    var cpuCommitted = 0
    /// Tasks submitted recently, fading by half every 5 s: with the outstanding count, the
    /// load DEGRADED's fair share is judged on (`load(at:)`).
    var arrivals = DecayingRate(now: 0)
    var deficit = 0
    var inActiveRing = false
    var blockedRound: UInt32 = 0
    var blockedClasses: UInt16 = 0

    init(id: TenantID, configuration: TenantConfiguration) {
        self.id = id
        self.configuration = configuration
    }

    /// Fading per second of `arrivals`: 0.5^(1/5), so a burst counts half after 5 s.
    static let arrivalFadePerSecond = 0.8705505632961241

    mutating func recordArrival(at now: Int64) {
        arrivals.add(1, now: now, factor: Self.arrivalFadePerSecond, intervalMilliseconds: 1_000)
    }

    /// Outstanding tasks (waiting, backing off, deferred, in flight) plus recent arrivals: what a
    /// tenant puts on the shard. Outstanding alone misjudges a flood whose tasks finish as fast
    /// as they are admitted (momentarily nothing outstanding, while its next thousand wait in the
    /// ingest stream): the quiet tenant beside it, with a few tasks running, held "the whole
    /// share" and was refused (`cluster/bench --noisy`, 2026-12-02).
    func load(at now: Int64) -> Double {
        Double(queued + inFlight) + arrivals.value(at: now, factor: Self.arrivalFadePerSecond, intervalMilliseconds: 1_000)
    }
}

/// A timer referring to a task: valid while the record's stamp (or life, for deadlines) matches.
struct TimerEntry: Comparable, Sendable {
    var at: Int64
    var handle: UInt32
    var check: UInt32

    static func < (lhs: TimerEntry, rhs: TimerEntry) -> Bool {
        lhs.at != rhs.at ? lhs.at < rhs.at : lhs.handle < rhs.handle
    }
}
