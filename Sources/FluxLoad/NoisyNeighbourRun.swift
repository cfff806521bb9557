import AsyncHTTPClient
public import FluxAPI
import FluxRuntime
import Foundation
public import Logging
import NIOCore
import NIOPosix

/// The noisy-neighbour benchmark (docs/performance.md): what one tenant's flood costs another.
///
/// A quiet tenant submits at a low steady rate (open loop, one task per request) for one phase
/// alone, then for a second phase while a flooding tenant submits batches as fast as it can with
/// the door's default limits (so the flood meets 429s, and fills its queue). Both tenants have
/// the same number of simulated agents; by default their names hash to the same slot, so they
/// also share one ingest stream. The figure is the quiet tenant's submit → dispatch latency in
/// each phase; the target is a p99 within 2× of the quiet phase's.
public struct NoisyNeighbourRun: Sendable {
    public struct Configuration: Sendable {
        /// Agents (split between the two tenants), capacity, service time, endpoints.
        public var load: LoadConfiguration
        /// The quiet tenant's rate, tasks per second.
        public var quietRate = 50
        /// The flood: requests in flight and tasks per request.
        public var floodConcurrency = 16
        public var floodBatch = 100
        /// Seconds of each phase.
        public var phaseSeconds = 10
        /// Give the two tenants names of the same slot (one ingest stream, one live hash).
        public var sameSlot = true
        /// The flood tenant's settings: by default what any tenant gets.
        public var floodSettings = TenantSettings()

        public init(load: LoadConfiguration) { self.load = load }
    }

    public let configuration: Configuration
    public let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws -> NoisyNeighbourReport {
        try await LoadRun.withClient { try await run(client: $0) }
    }

    private func run(client: HTTPClient) async throws -> NoisyNeighbourReport {
        var load = configuration.load
        load.tenants = 2
        let runner = LoadRun(configuration: load, logger: logger)
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let quietName = "quiet-\(run)"
        let floodName = configuration.sameSlot ? Self.nameSharingSlot(with: quietName, prefix: "flood-\(run)") : "flood-\(run)"
        let quiet = try await runner.createTenant(quietName, client: client)
        // The flood gets what any tenant gets by default: the door's limits apply to it.
        let flood = try await runner.createTenant(floodName, client: client, settings: configuration.floodSettings)

        let book = LatencyBook()
        let floodBook = LatencyBook()
        let sessions = SessionCounter()
        let agents = Task { await runner.runAgents(tenants: [quiet, flood], book: book, sessions: sessions) }
        defer { agents.cancel() }
        try await runner.waitForAgents(sessions)
        logger.notice("agents connected", metadata: ["sessions": "\(sessions.value)"])

        let phase = Duration.seconds(configuration.phaseSeconds)
        await submitQuiet(quiet, label: "alone", runner: runner, client: client, book: book, for: phase)
        try await Task.sleep(for: .seconds(2))
        let floodStarted = ContinuousClock.now
        async let flooding: Void = submitFlood(flood, runner: runner, client: client, book: floodBook, until: floodStarted + phase)
        try await Task.sleep(for: .seconds(1))  // the flood first fills its queue
        await submitQuiet(quiet, label: "flooded", runner: runner, client: client, book: book, for: phase - .seconds(1))
        await flooding
        let floodSeconds = LoadRun.seconds(ContinuousClock.now - floodStarted)
        // Let the quiet tenant's last tasks be dispatched.
        let deadline = ContinuousClock.now + .seconds(30)
        while book.toDispatch(tenant: "flooded").count + book.toDispatch(tenant: "alone").count < UInt64(book.counts.accepted),
              ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let alone = book.toDispatch(tenant: "alone")
        let flooded = book.toDispatch(tenant: "flooded")
        // Quiet tasks accepted but never dispatched in time: what became of them.
        let undispatched = book.undispatched(limit: 200)
        var states: [String: Int] = [:]
        for id in undispatched {
            var request = HTTPClientRequest(url: "\(load.api)/v1/tenants/\(quiet.name)/tasks/\(id)")
            request.headers.add(name: "Authorization", value: "Bearer \(quiet.token)")
            guard let response = try? await client.execute(request, timeout: .seconds(10)),
                  let body = try? await response.body.collect(upTo: 1 << 20),
                  let view = try? JSONDecoder().decode(TaskView.self, from: Data(buffer: body))
            else { states["unreadable", default: 0] += 1; continue }
            states["\(view.state) \(view.reason ?? "")", default: 0] += 1
        }
        return NoisyNeighbourReport(
            agents: load.agents, sameSlot: configuration.sameSlot, quietRate: configuration.quietRate,
            floodConcurrency: configuration.floodConcurrency, floodBatch: configuration.floodBatch,
            floodRateLimit: configuration.floodSettings.rateLimitPerSec, phaseSeconds: configuration.phaseSeconds,
            quietAlone: alone, quietFlooded: flooded,
            quietAnswerAlone: book.toAnswer(tenant: "alone"), quietAnswerFlooded: book.toAnswer(tenant: "flooded"),
            quietAccepted: book.counts.accepted, quietErrors: book.summary().errors,
            quietUndispatched: undispatched.count, quietUndispatchedStates: states,
            floodAcceptedPerSecond: Double(floodBook.counts.accepted) / floodSeconds, floodRefused: floodBook.summary().errors)
    }

    private func submitQuiet(
        _ tenant: LoadRun.Tenant, label: String, runner: LoadRun, client: HTTPClient, book: LatencyBook, for duration: Duration
    ) async {
        let request = submission(tenant, batchSize: 1)
        let interval = Duration.seconds(1.0 / Double(configuration.quietRate))
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var index = 0
            while true {
                let due = start + interval * index
                guard due < start + duration else { break }
                if due > .now { try? await Task.sleep(until: due) }
                group.addTask { await runner.send(request, tenant: label, client: client, book: book, sentAt: due, batchSize: 1) }
                index += 1
            }
        }
    }

    private func submitFlood(
        _ tenant: LoadRun.Tenant, runner: LoadRun, client: HTTPClient, book: LatencyBook, until end: ContinuousClock.Instant
    ) async {
        let request = submission(tenant, batchSize: configuration.floodBatch)
        let batch = configuration.floodBatch
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<configuration.floodConcurrency {
                group.addTask {
                    while ContinuousClock.now < end {
                        await runner.send(request, tenant: tenant.name, client: client, book: book, sentAt: .now, batchSize: batch)
                    }
                }
            }
        }
    }

    private func submission(_ tenant: LoadRun.Tenant, batchSize: Int) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "\(configuration.load.api)/v1/tenants/\(tenant.name)/\(batchSize == 1 ? "tasks" : "tasks:batch")")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(tenant.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(LoadRun.bodies(batchSize: batchSize))
        return request
    }

    /// A tenant name starting with `prefix` whose slot is `name`'s.
    static func nameSharingSlot(with name: String, prefix: String) -> String {
        let slot = Slotting.slot(forTenant: name, slotCount: 256)
        for index in 0..<100_000 where Slotting.slot(forTenant: "\(prefix)-\(index)", slotCount: 256) == slot {
            return "\(prefix)-\(index)"
        }
        return prefix
    }
}

/// What the noisy-neighbour benchmark measured.
public struct NoisyNeighbourReport: Codable, Sendable {
    public var agents: Int
    public var sameSlot: Bool
    public var quietRate: Int
    public var floodConcurrency: Int
    public var floodBatch: Int
    /// The flood tenant's `rateLimitPerSec` (its `burst` is the default).
    public var floodRateLimit: Int
    public var phaseSeconds: Int
    /// The quiet tenant's submit → dispatch, alone and during the flood.
    public var quietAlone: LatencySummary
    public var quietFlooded: LatencySummary
    /// The quiet tenant's submit → 202, alone and during the flood: the part of submit →
    /// dispatch spent at the door (router and Redis) rather than in the shard.
    public var quietAnswerAlone: LatencySummary
    public var quietAnswerFlooded: LatencySummary
    public var quietAccepted: Int
    /// The quiet tenant's failed submissions by status and code (any is a failure of isolation).
    public var quietErrors: [String: Int]
    /// Quiet tasks accepted but not dispatched 30 s after the phase (at most 200 looked at),
    /// and their `state reason` as the API tells.
    public var quietUndispatched: Int
    public var quietUndispatchedStates: [String: Int]
    public var floodAcceptedPerSecond: Double
    /// The flood's refused requests by kind (`http_429 rate_limited` at the door), in tasks.
    public var floodRefused: [String: Int]

    public var p99Ratio: Double { quietAlone.p99 > 0 ? quietFlooded.p99 / quietAlone.p99 : 0 }

    public func table() -> String {
        let sortedStates: [(key: String, value: Int)] = quietUndispatchedStates.sorted { $0.value > $1.value }
        let undispatchedStates: String = sortedStates.isEmpty ? "" : ": " + sortedStates.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        func row(_ name: String, _ l: LatencySummary) -> String {
            "  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) p50 \(f(l.p50)) ms  p90 \(f(l.p90))  p99 \(f(l.p99))  max \(f(l.max))  (n=\(l.count))"
        }
        return [
            "noisy neighbour: \(agents) agents over 2 tenants\(sameSlot ? " of one slot" : ""), quiet tenant \(quietRate) tasks/s, flood \(floodConcurrency) × batches of \(floodBatch) (rate limit \(floodRateLimit)/s), \(phaseSeconds) s a phase",
            row("quiet alone", quietAlone),
            row("quiet during the flood", quietFlooded),
            row("  of which submit → 202", quietAnswerFlooded),
            row("  (alone: submit → 202)", quietAnswerAlone),
            "  p99 ratio                \(f(p99Ratio)) × (target ≤ 2)",
            "  quiet errors             " + (quietErrors.isEmpty ? "none" : quietErrors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
            "  quiet not dispatched     \(quietUndispatched)\(undispatchedStates)",
            "  flood                    \(f(floodAcceptedPerSecond, 0)) tasks/s accepted; refused: "
                + (floodRefused.isEmpty ? "none" : floodRefused.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
        ].joined(separator: "\n")
    }
}
