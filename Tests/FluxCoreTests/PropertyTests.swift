import PropertyBased
import Testing
@testable import FluxCore

/// Random event streams against the invariants: limits never exceeded, every emitted transition
/// legal and continuing from the task's last state, and replay gives identical decisions.
@Suite struct PropertyTests {
    static let tenants = ["a", "b", "c"]
    static let limits = TenantConfiguration(maxQueued: 12, maxInFlight: 5, cpuBudget: 30, weight: 1)

    /// A reproducible stream of events with times, built from a seed.
    static func stream(seed: UInt64, length: Int) -> [(SchedulerEvent, Timestamp)] {
        var random = SplitMix64(seed: seed)
        var events: [(SchedulerEvent, Timestamp)] = []
        var now: Int64 = 0
        for tenantName in tenants { events.append((.tenantConfigured(tenant(tenantName), limits), .zero)) }
        for index in 0..<6 {
            let owner = tenants[index % 3]
            events.append((.nodeConnected(descriptor("n\(index)", tenant: owner, zone: "z\(index % 2)", rack: "r\(index % 3)",
                                                     labels: ["k": index % 2 == 0 ? "x" : "y"], capacity: 1 + index % 3)), .zero))
        }
        var submitted = 0
        for _ in 0..<length {
            now += Int64(random.next() % 3_000)
            events.append((randomEvent(&random, submitted: &submitted), Timestamp(milliseconds: now)))
        }
        return events
    }

    static func randomEvent(_ random: inout SplitMix64, submitted: inout Int) -> SchedulerEvent {
        let pick = random.next() % 100
        let someTask = task("t\(submitted == 0 ? 0 : Int(random.next() % UInt64(submitted)))")
        let someNode = ("n\(random.next() % 6)", tenants[Int(random.next() % 3)])
        switch pick {
        case 0..<35:
            submitted += 1
            let targets: [PlacementTarget] = [.any, .selector(LabelSelector(["k": "x"])), .node(node("n\(random.next() % 6)"))]
            return .taskSubmitted(spec(
                "t\(submitted - 1)", tenant: tenants[Int(random.next() % 3)], priority: Int(random.next() % 11),
                cpu: Int(random.next() % 6), target: targets[Int(random.next() % 3)],
                timeout: .seconds(Int64(1 + random.next() % 20)),
                deadline: random.next() % 4 == 0 ? Timestamp(milliseconds: Int64(random.next() % 400_000)) : nil))
        case 35..<55:
            let outcomes: [TaskOutcome] = [.succeeded, .exitCode(1), .agentRejected, .timedOut, .nodeLost, .crashed]
            return .taskFinished(someTask, attempt: Int(1 + random.next() % 3), outcome: outcomes[Int(random.next() % 6)])
        case 55..<60: return .taskStarted(someTask, attempt: Int(1 + random.next() % 2))
        case 60..<64: return .taskCancelled(someTask)
        case 64..<67: return .taskResumed(someTask)
        case 67..<70: return .nodeDisconnected(tenant: tenant(someNode.1), node: node(someNode.0))
        case 70..<73:
            return .nodeConnected(descriptor(someNode.0, tenant: someNode.1, zone: "z0", labels: ["k": "x"], capacity: 2))
        case 73..<76:
            return .agentHealthReported(tenant: tenant(someNode.1), node: node(someNode.0), report: Double(random.next() % 11) / 10)
        case 76..<78: return .probeCompleted(tenant: tenant(someNode.1), node: node(someNode.0), result: .failed)
        case 78..<79: return .modeOverride([nil, .degraded, .normal][Int(random.next() % 3)])
        case 79..<80: return .overloadSignalled(OverloadSignal(redisLatencyP99: .milliseconds(Int64(random.next() % 200))))
        default: return .tick
        }
    }

    static func run(_ events: [(SchedulerEvent, Timestamp)]) -> (Scheduler, [[SchedulerDecision]]) {
        var configuration = SchedulerConfiguration()
        configuration.maxWaitingTasks = 20
        var scheduler = Scheduler(configuration: configuration)
        let decisions = events.map { scheduler.handle($0.0, now: $0.1) }
        return (scheduler, decisions)
    }

    @Test func limitsAreNeverExceeded() async {
        await propertyCheck(count: 25, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var configuration = SchedulerConfiguration()
            configuration.maxWaitingTasks = 20
            var scheduler = Scheduler(configuration: configuration)
            for (event, now) in Self.stream(seed: seed, length: 300) {
                let waitingBefore = scheduler.waitingTasks
                _ = scheduler.handle(event, now: now)
                // The global cap bounds admission; tasks back from backoff may re-enter above it.
                if case .taskSubmitted = event {
                    #expect(scheduler.waitingTasks <= max(20, waitingBefore), "seed \(seed)")
                }
                for snapshot in scheduler.queueSnapshots(now: now) {
                    #expect(snapshot.outstanding <= snapshot.maxQueued, "seed \(seed)")
                    #expect(snapshot.inFlight <= snapshot.maxInFlight, "seed \(seed)")
                    #expect(snapshot.cpuCommitted <= snapshot.cpuBudget, "seed \(seed)")
                    #expect(snapshot.cpuCommitted >= 0 && snapshot.queued >= 0 && snapshot.inFlight >= 0)
                }
                for snapshot in scheduler.nodeSnapshots(tenant: tenant("a"), now: now) {
                    #expect(snapshot.inFlight <= max(snapshot.capacity, 0) || !snapshot.isConnected, "seed \(seed)")
                }
            }
        }
    }

    @Test func everyTransitionIsLegalAndContinuesTheTasksHistory() async {
        await propertyCheck(count: 25, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let (scheduler, decisions) = Self.run(Self.stream(seed: seed, length: 300))
            var last: [TaskID: TaskState] = [:]
            for transition in decisions.joined().compactMap(\.transition) {
                #expect(transition.from.canTransition(to: transition.to), "seed \(seed): \(transition)")
                let previous = last[transition.task]
                #expect(previous == nil ? transition.from == .queued : previous == transition.from, "seed \(seed): \(transition)")
                #expect(previous?.isTerminal != true, "seed \(seed): \(transition) after a terminal state")
                last[transition.task] = transition.to
            }
            // The scheduler holds exactly the tasks whose last state is not terminal.
            let held = last.filter { !$0.value.isTerminal }
            #expect(held.count == scheduler.heldTasks, "seed \(seed)")
            for (id, state) in held { #expect(scheduler.explain(task: id, now: .distantFuture)?.state == state) }
        }
    }

    @Test func replayingARecordedStreamGivesIdenticalDecisions() {
        for seed in [1, 2, 3, 42] as [UInt64] {
            let events = Self.stream(seed: seed, length: 1_500)
            let first = Self.run(events).1
            let second = Self.run(events).1
            #expect(first == second, "seed \(seed)")
            #expect(first.joined().count > 1_000)
        }
    }
}
