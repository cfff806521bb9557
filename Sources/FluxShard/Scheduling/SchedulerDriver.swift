import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The shard's bridge between the world and the pure scheduling core.
///
/// Anything may post events (routes, agent sessions, the ingest consumer, lease loop); one loop
/// (`run`) drains them in order, feeds them to `FluxCore.Scheduler`, turns the decisions into
/// fenced Redis transitions written in one pipeline, and only then talks to agents and resumes
/// waiters. A failed Redis write puts the shard in READ_ONLY; when Redis answers again the core
/// is rebuilt from Redis, which is the truth, so memory and Redis can never drift apart for long.
final class SchedulerDriver: Sendable {
    let configuration: ShardConfiguration
    let redis: any RedisBackend
    let leases: SlotLeases
    let sessions: AgentSessions
    let metrics: ShardMetrics
    let logger: Logger

    /// How long a flush no replica confirmed is held waiting for one (`--redis-ack replica`)
    /// before the shard takes it for an outage: long enough for a replica's restart or a
    /// partial resync, short of a lease's lifetime worth of agents waiting for their answers.
    static let replicaHoldLimit: Duration = .seconds(10)

    /// Posted events, and when the oldest of them was posted (how long work waits: the lag).
    private let inbox = Mutex<(events: [DriverEvent], since: ContinuousClock.Instant?)>(([], nil))
    /// Redis latency measured on its own connection and timer (`ShardLoops` runs it).
    let redisProbe: RedisLatencyProbe
    private let wakeStream: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let published = Mutex<PublishedState>(PublishedState())

    /// What the loop publishes for readers on other tasks (routes, readiness).
    struct PublishedState: Sendable {
        var mode: String = "NORMAL"
        var redisDown = false
        /// Slots rebuilt into the core and open for ingest.
        var activeSlots: Set<Int> = []
        /// Backpressure at the door, as of the loop's last look.
        var backpressure = Backpressure.Verdict(backlogMs: 0, refusing: [])
        /// The loop dropped read submissions it had taken in (a write failed, a slot was
        /// rebuilt): the ingest consumer must read this shard's pending entries again.
        var rereadPending = false
    }

    init(
        configuration: ShardConfiguration, redis: any RedisBackend, probeRedis: any RedisBackend, leases: SlotLeases,
        sessions: AgentSessions, metrics: ShardMetrics, logger: Logger
    ) {
        self.configuration = configuration
        self.redis = redis
        self.leases = leases
        self.sessions = sessions
        self.metrics = metrics
        self.logger = logger
        redisProbe = RedisLatencyProbe(redis: probeRedis)
        (wakeStream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: reading state from other tasks

    /// True while submissions must be refused (Redis unreachable or mode READ_ONLY).
    var isReadOnly: Bool { published.withLock { $0.redisDown || $0.mode == "READ_ONLY" } }

    /// The scheduler mode as last published by the loop.
    var modeName: String { published.withLock { $0.redisDown ? "READ_ONLY" : $0.mode } }

    func publish(mode: String) { published.withLock { $0.mode = mode } }
    func publish(backpressure: Backpressure.Verdict) { published.withLock { $0.backpressure = backpressure } }
    /// What backpressure at the door says now (submissions, the member record).
    var backpressure: Backpressure.Verdict { published.withLock { $0.backpressure } }

    /// The refusal for a submission of `tenant` while backpressure at the door refuses it.
    func backlogRefusal(of tenant: String) -> HTTPProblem? {
        let verdict = backpressure
        guard verdict.refusing.contains(tenant) else { return nil }
        return HTTPProblem.tooManyRequests(
            "backlog", "this shard's waiting tasks take \(verdict.backlogMs) ms to drain and tenant \(tenant) holds at least its share of them; nothing was written",
            retryAfterMs: verdict.retryAfterMs)
    }
    /// The refusal for a validated submission of `tenant` while DEGRADED refuses its classes
    /// above P3 and the submission holds one (the least urgent class is given).
    func degradedRefusal(of tenant: String, leastUrgentClass: Int) -> HTTPProblem? {
        let verdict = backpressure
        guard leastUrgentClass > verdict.degradedMaxClass, verdict.degradedRefusing.contains(tenant) else { return nil }
        return SubmissionEndpoint.degradedRefusal(tenant: tenant, maxClass: verdict.degradedMaxClass)
    }
    func publish(redisDown: Bool) { published.withLock { $0.redisDown = redisDown } }
    var redisIsDown: Bool { published.withLock { $0.redisDown } }

    /// Slots whose state the core holds; the ingest consumer reads only these, so no
    /// submission is admitted before its slot's tenants and tasks are loaded.
    var activeSlots: [Int] { published.withLock { $0.activeSlots.sorted() } }
    func isActive(slot: Int) -> Bool { published.withLock { $0.activeSlots.contains(slot) } }
    func activate(_ slots: some Sequence<Int>) { published.withLock { $0.activeSlots.formUnion(slots) } }
    func deactivate(_ slots: some Sequence<Int>) { published.withLock { $0.activeSlots.subtract(slots) } }

    /// Any Redis failure seen anywhere: go READ_ONLY until the loop sees Redis answer again.
    func redisFailed(_ error: any Error) {
        guard error is RedisError else { return }
        let wasDown = published.withLock { state in
            defer { state.redisDown = true }
            return state.redisDown
        }
        if !wasDown {
            logger.error("Redis unreachable: entering READ_ONLY", metadata: ["error": "\(error)", "mode": "READ_ONLY"])
            metrics.mode.record(SchedulerMode.readOnly.gaugeValue)
        }
        wake.yield()
    }

    // MARK: posting events

    /// Another turn soon, without an event (the loop has read-ahead submissions to admit).
    func wakeAgain() { wake.yield() }

    /// Asks the ingest consumer to read this shard's own pending entries again: submissions it
    /// handed over were dropped before admission, and they stay pending in the streams.
    func requestReread() { published.withLock { $0.rereadPending = true } }
    /// True once after `requestReread` (the consumer's question).
    func takeRereadRequest() -> Bool {
        published.withLock { state in
            defer { state.rereadPending = false }
            return state.rereadPending
        }
    }

    func post(_ event: DriverEvent) {
        inbox.withLock { inbox in
            if inbox.events.isEmpty { inbox.since = .now }
            inbox.events.append(event)
        }
        wake.yield()
    }

    /// The events posted since the last drain, and how long the oldest of them waited.
    func drain() -> (events: [DriverEvent], waited: Duration?) {
        inbox.withLock { inbox in
            defer {
                inbox.events.removeAll(keepingCapacity: true)
                inbox.since = nil
            }
            return (inbox.events, inbox.since.map { ContinuousClock.now - $0 })
        }
    }

    /// Hands an ingest batch over; returns true once the driver has taken it in (admitted, or
    /// held for a later turn while it holds fewer than `DriverLoop.intakeLimit`), false if a
    /// write failed (the entries stay pending and must be read again).
    func ingest(_ tasks: [IngestedTask]) async -> Bool {
        await withCheckedContinuation { post(.ingested(tasks, done: $0)) }
    }

    func nodeConnected(_ hello: AgentMessage.Hello) async { post(.nodeConnected(hello)) }
    func nodeDisconnected(_ key: NodeKey) async { post(.nodeDisconnected(key)) }
    func agentMessage(_ message: AgentMessage, from key: NodeKey) async { post(.agentMessage(message, from: key)) }
    func pingsSent(to keys: [NodeKey], nonce: Int) { post(.pingsSent(keys, nonce: nonce, atMs: WallClock.nowMs())) }
    func tenantChanged(_ tenant: String, settings: TenantSettings) async { post(.tenantChanged(tenant, settings)) }
    func tenantDeleted(_ tenant: String) async { post(.tenantDeleted(tenant)) }
    func slotsAcquired(_ slots: [Int]) async { post(.slotsAcquired(slots)) }
    func slotsLost(_ slots: [Int]) async { post(.slotsLost(slots)) }

    /// Cancels or resumes a task through the core; throws a 409 problem when the core refuses.
    func request(_ change: TaskChange, tenant: String, taskID: String) async throws {
        let result = await withCheckedContinuation { post(.taskRequest(change, tenant: tenant, taskID: taskID, done: $0)) }
        if case .failure(let error) = result { throw HTTPProblem.conflict(error.code, error.message) }
    }

    /// The tenant's nodes with their health, as the core sees them now.
    func nodes(tenant: String) async -> [NodeView] {
        await withCheckedContinuation { post(.nodesQuery(tenant: tenant, done: $0)) }
    }

    /// Why the task is where it is, as the core sees it now; nil when the core does not hold it.
    func explain(_ query: ExplainQuery) async -> TaskExplanationView? {
        await withCheckedContinuation { post(.explainQuery(query, done: $0)) }
    }

    /// The debug snapshot; nil while the loop cannot run (Redis unreachable).
    func snapshot() async -> SchedulerSnapshotView? {
        await withCheckedContinuation { post(.snapshotQuery(done: $0)) }
    }

    /// Sets (or, with nil, clears) the operator's mode override; nil while Redis is unreachable.
    func setMode(_ mode: SchedulerMode?) async -> SchedulerModeView? {
        await withCheckedContinuation { post(.modeOverride(mode, done: $0)) }
    }

    /// Refreshes the state gauges before a scrape.
    func refreshMetrics() async {
        await withCheckedContinuation { post(.metricsRefresh(done: $0)) }
    }

    /// The loop; returns when its task is cancelled.
    func run() async {
        let ticker = Task { [wake, configuration] in
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.tickInterval)
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        var loop = DriverLoop(driver: self)
        for await _ in wakeStream {
            if Task.isCancelled { break }
            await loop.turn()
        }
        loop.abandon()
    }
}
