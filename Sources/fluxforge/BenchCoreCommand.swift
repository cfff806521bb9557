import ArgumentParser
import FluxCore
import Foundation

/// `fluxforge bench core`: admission + placement throughput of the pure scheduler at scale, and
/// its memory per waiting task. Single-threaded, release build, no I/O in the measured loops.
struct BenchCoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Measure scheduler decisions/s and memory per waiting task (build with -c release).")

    @Option(help: "Waiting tasks to build up before the steady-state phase.")
    var tasks = 1_000_000
    @Option(help: "Nodes, spread evenly over tenants.")
    var nodes = 10_000
    @Option(help: "Tenants.")
    var tenants = 200
    @Option(help: "Slots per node.")
    var capacity = 4
    @Option(help: "Tasks finished and submitted per steady-state batch (one tick per batch).")
    var batch = 2_000
    @Option(help: "Steady-state batches.")
    var batches = 500

    func run() async throws {
        var bench = CoreBench(tasks: tasks, nodes: nodes, tenants: tenants, capacity: capacity)
        let rssBefore = Self.residentBytes()
        let fill = bench.fill()
        let rssAfter = Self.residentBytes()
        let footprint = bench.scheduler.storageFootprint
        let steady = bench.steadyState(batch: batch, batches: batches)
        print("bench core: \(tasks) waiting tasks, \(nodes) nodes, \(tenants) tenants, capacity \(capacity)")
        print("fill:   \(fill.decisions) admissions in \(Self.seconds(fill.elapsed)) s wall, \(Self.seconds(fill.cpu)) s CPU"
            + " = \(Self.rate(fill.decisions, fill.elapsed)) decisions/s wall, \(Self.rate(fill.decisions, fill.cpu)) per CPU-second")
        print("steady: \(steady.decisions) decisions (\(steady.admissions) admissions + \(steady.dispatches) dispatches; "
            + "\(steady.finishes) results also applied) in \(Self.seconds(steady.elapsed)) s wall, \(Self.seconds(steady.cpu)) s CPU"
            + " = \(Self.rate(steady.decisions, steady.elapsed)) decisions/s wall, \(Self.rate(steady.decisions, steady.cpu)) per CPU-second")
        let held = max(1, bench.scheduler.counters.held)
        print("memory: RSS delta \((rssAfter - rssBefore) / held) B per waiting task (/proc/self/statm, \(held) held); "
            + "storage \(footprint.totalBytes / held) B per task (capacity x stride: tasks \(footprint.taskStorageBytes / held), "
            + "queues \(footprint.queueBytes / held), timers \(footprint.timerBytes / held))")
        print("waiting at end: \(bench.scheduler.counters.waiting), in flight: \(bench.scheduler.counters.inFlight)")
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(milliseconds / 1000).\(String(format: "%03d", Int(milliseconds % 1000)))"
    }

    static func rate(_ count: Int, _ duration: Duration) -> Int {
        let parts = duration.components
        let seconds = Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        return seconds > 0 ? Int(Double(count) / seconds) : 0
    }
}

/// The benchmark's state: a scheduler, its fleet, and pre-built ids (built before measuring, so
/// neither the clock nor the RSS delta includes making strings).
struct CoreBench {
    struct Phase {
        var decisions = 0, admissions = 0, dispatches = 0, finishes = 0
        var elapsed = Duration.zero
        /// CPU time of this thread: unlike wall time, it excludes time the thread was not
        /// running (the build machine is shared).
        var cpu = Duration.zero
    }

    static func threadCPUTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    var scheduler: Scheduler
    let tenantIDs: [TenantID]
    let taskIDs: [TaskID]
    let totalTasks: Int
    var now = Timestamp(milliseconds: 1_000)
    var running: [(TaskID, Int)] = []
    var submitted = 0

    init(tasks: Int, nodes: Int, tenants: Int, capacity: Int) {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = tasks * 2
        scheduler = Scheduler(configuration: configuration, expectedTasks: tasks)
        tenantIDs = (0..<tenants).map { try! TenantID("tenant-\($0)") }
        totalTasks = tasks
        taskIDs = []
        let limits = TenantConfiguration(maxQueued: tasks, maxInFlight: nodes * capacity, cpuBudget: tasks * 10, weight: 1)
        for tenant in tenantIDs { _ = scheduler.handle(.tenantConfigured(tenant, limits), now: now) }
        for index in 0..<nodes {
            let descriptor = NodeDescriptor(
                id: try! NodeID("node-\(index)"), tenant: tenantIDs[index % tenants], zone: "zone-\(index % 5)",
                rack: "rack-\(index % 50)", labels: ["arch": index % 2 == 0 ? "arm64" : "x86"], capacity: capacity)
            _ = scheduler.handle(.nodeConnected(descriptor), now: now)
        }
    }

    func spec(_ number: Int) -> TaskSpec {
        TaskSpec(
            id: try! TaskID("t\(number)"), tenant: tenantIDs[number % tenantIDs.count],
            priority: PriorityClass.all[(number / 7) % PriorityClass.count], cpuCost: 1 + number % 4,
            timeout: .seconds(3600))
    }

    /// Submits `tasks` tasks with no free node slot consumed yet (one tick at the end is not
    /// timed): pure admission at growing queue depth.
    mutating func fill() -> Phase {
        let specs = (0..<totalTasks).map(spec)
        var phase = Phase()
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = Self.threadCPUTime()
        for spec in specs {
            phase.admissions += scheduler.handle(.taskSubmitted(spec), now: now).count
        }
        phase.cpu = Self.threadCPUTime() - cpuStart
        phase.elapsed = clock.now - start
        phase.decisions = phase.admissions
        submitted = totalTasks
        return phase
    }

    /// Steady state at full depth: each batch applies `batch` results, submits `batch` new tasks,
    /// and ticks once, which dispatches into the freed slots.
    mutating func steadyState(batch: Int, batches: Int) -> Phase {
        let specs = (0..<(batch * batches)).map { spec(totalTasks + $0) }
        var phase = Phase()
        collect(scheduler.handle(.tick, now: now), into: &phase)
        phase = Phase()
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = Self.threadCPUTime()
        var next = 0
        for _ in 0..<batches {
            now = now.advanced(byMilliseconds: 10)
            let finishing = Array(running.suffix(batch))
            running.removeLast(finishing.count)
            for (id, attempt) in finishing {
                phase.finishes += scheduler.handle(.taskFinished(id, attempt: attempt, outcome: .succeeded), now: now).count
            }
            for _ in 0..<batch {
                phase.admissions += scheduler.handle(.taskSubmitted(specs[next]), now: now).count
                next += 1
            }
            collect(scheduler.handle(.tick, now: now), into: &phase)
        }
        phase.cpu = Self.threadCPUTime() - cpuStart
        phase.elapsed = clock.now - start
        phase.decisions = phase.admissions + phase.dispatches
        return phase
    }

    private mutating func collect(_ decisions: [SchedulerDecision], into phase: inout Phase) {
        for decision in decisions {
            if case .dispatched(let transition, _, let attempt, _) = decision {
                running.append((transition.task, attempt))
                phase.dispatches += 1
            }
        }
    }
}
