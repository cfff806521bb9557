import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime
import Logging

/// The driver's single-threaded state: the scheduling core and what the runtime must remember
/// between turns. Owned by `SchedulerDriver.run`, never shared, so it needs no locks.
///
/// One turn: drain events → feed each to the core → tick → turn decisions into transitions →
/// write them all in one pipeline → then (and only then) send dispatches, cancels and acks to
/// agents and resume waiters.
struct DriverLoop {
    let driver: SchedulerDriver
    var scheduler: Scheduler
    /// Connected agents by node, as they said hello (re-added to a rebuilt core).
    var hellos: [NodeKey: AgentMessage.Hello] = [:]
    /// Outstanding ping per node: nonce and send time, for the probe's round trip.
    var pings: [NodeKey: (nonce: Int, atMs: Int64)] = [:]
    /// Ingest entries whose admission outcome is not yet written, by task id.
    var ingestEntries: [String: (slot: Int, entry: String)] = [:]
    /// Submissions read and not yet admitted, by tenant: each turn admits up to
    /// `admissionsPerTenantPerTurn` of each tenant.
    var intake = FairIntake()
    /// Ingest reads taken in while `intake` was full: answered once it is below its limit.
    var parkedIngestDone: [CheckedContinuation<Bool, Never>] = []
    /// Slots whose state must be (re)loaded from Redis before the next turn's events.
    var slotsToRebuild: Set<Int> = []
    /// Tenants the core holds, by slot, so a lost or rebuilt slot can be forgotten exactly.
    var tenantsBySlot: [Int: Set<String>] = [:]
    var turnWork = TurnWork()
    /// The operator's mode override, re-applied when the core is rebuilt after a Redis outage.
    var modeOverride: SchedulerMode?
    /// The mode last published to readers and the metric.
    var publishedMode: SchedulerMode?
    /// How long posted events waited before a turn took them (the shard's own lag); its p99
    /// drives DEGRADED `overload_shard`. Redis's latency is the driver's `redisProbe`.
    var lag = LatencyWindow()
    var lastOverloadSignalMs: Int64 = 0
    /// Backpressure at the door: the recent dispatch rate, looked at every 250 ms.
    var backpressure: Backpressure
    var lastBackpressureMs: Int64 = 0
    /// Failure outcomes decided since start, by reason code (debug snapshot).
    var failureCounters: [String: Int] = [:]
    /// Nodes whose health changed since it was last written to Redis.
    var dirtyNodes: Set<NodeKey> = []
    var nodeHealthUrgent = false
    /// What was last persisted per node (see `writeNodeHealth`): a node is written again only
    /// when that changes or `nodeHealthRefreshMs` passed, not on every ping.
    var nodeHealthWritten: [NodeKey: (fingerprint: String, atMs: Int64)] = [:]
    var lastNodeHealthWriteMs: Int64 = 0
    var logger: Logger { driver.logger }

    /// A turn admits at most this many read submissions of one tenant: a flood's turn stays
    /// short, and another tenant's submissions read with it are admitted in the same turn.
    static let admissionsPerTenantPerTurn = 128
    /// Read-ahead submissions held before the ingest consumer waits (its read is answered
    /// only once fewer are held).
    static let intakeLimit = 4_096

    init(driver: SchedulerDriver) {
        self.driver = driver
        self.scheduler = Scheduler(configuration: driver.configuration.scheduler)
        self.backpressure = Backpressure(maxBacklogMs: driver.configuration.maxBacklog.milliseconds)
    }

    /// Work collected during one turn and carried out after the Redis write.
    struct TurnWork {
        var requests: [TransitionRequest] = []
        /// Tenant of each request (same index), for metrics and log metadata.
        var tenants: [String] = []
        var dispatches: [Int: (key: NodeKey, timeoutMs: Int)] = [:]
        var messages: [(AgentMessage, NodeKey)] = []
        var acks: [(AgentMessage.TaskAttempt, NodeKey)] = []
        var results: [String: [(String, String)]] = [:]
        /// Node and attempt named by agent frames this turn, for the timeline of what they cause.
        var attempts: [String: (node: String, attempt: Int)] = [:]
        var ingestDone: [CheckedContinuation<Bool, Never>] = []
        var changeWaiters: [CheckedContinuation<Result<Void, TaskChangeError>, Never>] = []
        var leftoverAcks: [(slot: Int, entry: String)] = []
    }

    /// One turn of the loop.
    mutating func turn() async {
        let nowMs = WallClock.nowMs()
        if driver.redisIsDown {
            guard await recoverFromRedisOutage() else { return failDrained() }
        }
        // Slot changes first, so every other event of this turn sees the slots as they will be.
        let (events, waited) = driver.drain()
        if let waited { lag.record(waited, atMs: nowMs) }
        for event in events where event.isSlotChange { await handle(event, nowMs: nowMs) }
        if !slotsToRebuild.isEmpty { await rebuildPendingSlots(nowMs: nowMs) }
        for event in events where !event.isSlotChange { await handle(event, nowMs: nowMs) }
        for task in intake.take(perTenant: Self.admissionsPerTenantPerTurn) { admit(task, nowMs: nowMs) }
        signalOverload(nowMs: nowMs)
        apply(scheduler.handle(.tick, now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
        await flush(nowMs: nowMs)
        publishMode()
        publishBackpressure(nowMs: nowMs)
        if intake.count > 0 { driver.wakeAgain() }
    }

    /// Publishes the backlog and whom the door refuses (`Backpressure`, and DEGRADED's refusals),
    /// at most every 250 ms; the tenants over their share are only counted when the backlog is
    /// over the bound or the shard is DEGRADED.
    mutating func publishBackpressure(nowMs: Int64) {
        guard nowMs - lastBackpressureMs >= 250 else { return }
        lastBackpressureMs = nowMs
        let waiting = scheduler.waitingTasks
        var verdict = backpressure.verdict(waiting: waiting, overShare: [], nowMs: nowMs)
        if backpressure.maxBacklogMs > 0, verdict.backlogMs > backpressure.maxBacklogMs {
            verdict = backpressure.verdict(waiting: waiting, overShare: scheduler.tenantsAtOrOverWaitingShare.map(\.rawValue), nowMs: nowMs)
        }
        // DEGRADED closes the door to the tenants its overload is made of, for P4–P10: a flood
        // is refused at submit instead of accepted and shed (docs/scheduler-design.md#9-modes).
        if scheduler.mode == .degraded {
            verdict.degradedRefusing = scheduler.tenantsAtOrOverShareOfLoad(now: Timestamp(milliseconds: nowMs)).map(\.rawValue).sorted()
            verdict.degradedMaxClass = Int(scheduler.configuration.degradedMaxPriority.rawValue)
        }
        if verdict.degradedRefusing != driver.backpressure.degradedRefusing {
            logger.notice("DEGRADED's door now refuses P\(verdict.degradedMaxClass + 1)–P10 of", metadata: ["tenants": "\(verdict.degradedRefusing)"])
        }
        if verdict != driver.backpressure { driver.publish(backpressure: verdict) }
    }

    /// Makes the core's mode visible to routes (`requireWritable`, readiness) and the metric.
    mutating func publishMode() {
        guard publishedMode != scheduler.mode else { return }
        publishedMode = scheduler.mode
        driver.publish(mode: scheduler.mode.rawValue)
        driver.metrics.mode.record(scheduler.mode.gaugeValue)
    }

    /// Called when the loop stops: nobody may wait forever on a loop that is gone.
    mutating func abandon() {
        failDrained()
    }

    private mutating func handle(_ event: DriverEvent, nowMs: Int64) async {
        let now = Timestamp(milliseconds: nowMs)
        switch event {
        case .ingested(let tasks, let done):
            turnWork.ingestDone.append(done)
            // A slot lost since the read is not ours to admit: its entries stay pending.
            let active = Set(driver.activeSlots)
            for task in tasks where active.contains(task.slot) { intake.append(task) }
        case .nodeConnected(let hello):
            connect(hello, now: now, nowMs: nowMs)
        case .nodeDisconnected(let key):
            dirtyNodes.insert(key)
            hellos[key] = nil
            pings[key] = nil
            if let (tenant, node) = Self.ids(key) {
                apply(scheduler.handle(.nodeDisconnected(tenant: tenant, node: node), now: now), nowMs: nowMs)
            }
        case .agentMessage(let message, let key):
            agentMessage(message, from: key, nowMs: nowMs)
        case .pingsSent(let keys, let nonce, let atMs):
            for key in keys {
                if pings[key] != nil, let (tenant, node) = Self.ids(key) {
                    // The previous ping was never answered: a failed probe.
                    dirtyNodes.insert(key)
                    apply(scheduler.handle(.probeCompleted(tenant: tenant, node: node, result: .failed), now: now), nowMs: nowMs)
                }
                pings[key] = (nonce, atMs)
            }
        case .tenantChanged(let tenant, let settings):
            guard let id = try? TenantID(tenant) else { return }
            tenantsBySlot[Slotting.slot(forTenant: tenant, slotCount: driver.configuration.slotCount), default: []].insert(tenant)
            apply(scheduler.handle(.tenantConfigured(id, Self.configuration(settings)), now: now), nowMs: nowMs)
        case .tenantDeleted(let tenant):
            guard let id = try? TenantID(tenant) else { return }
            tenantsBySlot[Slotting.slot(forTenant: tenant, slotCount: driver.configuration.slotCount)]?.remove(tenant)
            hellos = hellos.filter { $0.key.tenant != tenant }
            apply(scheduler.handle(.tenantRemoved(id), now: now), nowMs: nowMs)
        case .taskRequest(let change, let tenant, let taskID, let done):
            request(change, tenant: tenant, taskID: taskID, done: done, nowMs: nowMs)
        case .slotsAcquired(let slots):
            slotsToRebuild.formUnion(slots)
        case .slotsLost(let slots):
            forget(slots: Set(slots), nowMs: nowMs)
        case .nodesQuery(let tenant, let done):
            done.resume(returning: nodeViews(tenant: tenant, now: now))
        case .explainQuery(let query, let done):
            done.resume(returning: explanation(query, now: now))
        case .snapshotQuery(let done):
            done.resume(returning: snapshot(now: now))
        case .modeOverride(let mode, let done):
            modeOverride = mode
            apply(scheduler.handle(.modeOverride(mode), now: now), nowMs: nowMs)
            publishMode()
            done.resume(returning: modeView())
        case .metricsRefresh(let done):
            refreshGauges(now: now)
            done.resume()
        }
    }

    private mutating func connect(_ hello: AgentMessage.Hello, now: Timestamp, nowMs: Int64) {
        let key = NodeKey(tenant: hello.tenant, node: hello.node)
        guard let (tenant, node) = Self.ids(key) else { return }
        hellos[key] = hello
        dirtyNodes.insert(key)
        let descriptor = NodeDescriptor(id: node, tenant: tenant, zone: hello.zone, rack: hello.rack, labels: hello.labels, capacity: hello.capacity)
        apply(scheduler.handle(.nodeConnected(descriptor), now: now), nowMs: nowMs)
    }

    private mutating func request(
        _ change: TaskChange, tenant: String, taskID: String,
        done: CheckedContinuation<Result<Void, TaskChangeError>, Never>, nowMs: Int64
    ) {
        guard let id = try? TaskID(taskID) else {
            return done.resume(returning: .failure(TaskChangeError(code: "not_found", message: "no such task")))
        }
        let event: SchedulerEvent = change == .cancel ? .taskCancelled(id) : .taskResumed(id)
        let decisions = scheduler.handle(event, now: Timestamp(milliseconds: nowMs))
        let changed = decisions.contains { $0.transition?.task == id }
        apply(decisions, nowMs: nowMs)
        if changed {
            turnWork.changeWaiters.append(done)
        } else {
            let verb = change == .cancel ? "cancelled" : "resumed"
            done.resume(returning: .failure(TaskChangeError(code: "invalid_state", message: "the task cannot be \(verb) in its current state")))
        }
    }

    /// Drops the read-ahead (Redis failed): parked reads are answered false, and the ingest
    /// consumer reads the pending entries again, since reads it was told were taken in are gone.
    mutating func dropIntake() {
        for done in parkedIngestDone { done.resume(returning: false) }
        parkedIngestDone = []
        if intake.count > 0 { driver.requestReread() }
        intake.removeAll()
    }

    /// Resumes every waiter without doing its work (Redis down, or the loop stopping).
    mutating func failDrained() {
        dropIntake()
        for event in driver.drain().events {
            switch event {
            case .ingested(_, let done): done.resume(returning: false)
            case .taskRequest(_, _, _, let done):
                done.resume(returning: .failure(TaskChangeError(code: "redis_unavailable", message: "the coordination store is unreachable")))
            case .nodesQuery(_, let done): done.resume(returning: [])
            case .explainQuery(_, let done): done.resume(returning: nil)
            case .snapshotQuery(let done): done.resume(returning: nil)
            case .modeOverride(_, let done): done.resume(returning: nil)
            case .metricsRefresh(let done): done.resume()
            case .nodeConnected(let hello): hellos[NodeKey(tenant: hello.tenant, node: hello.node)] = hello
            case .nodeDisconnected(let key): hellos[key] = nil
            default: break
            }
        }
    }

    static func ids(_ key: NodeKey) -> (TenantID, NodeID)? {
        guard let tenant = try? TenantID(key.tenant), let node = try? NodeID(key.node) else { return nil }
        return (tenant, node)
    }

    static func configuration(_ settings: TenantSettings) -> TenantConfiguration {
        TenantConfiguration(maxQueued: settings.maxQueued, maxInFlight: settings.maxInFlight, cpuBudget: settings.cpuBudget, weight: settings.weight)
    }
}
