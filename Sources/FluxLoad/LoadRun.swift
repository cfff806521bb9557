import AsyncHTTPClient
import FluxAPI
import FluxRedis
import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Runs one load scenario against a running cluster: creates tenants, connects the simulated
/// agents through the router, submits for the configured time, waits for the work to finish,
/// and reports (docs/performance.md).
public struct LoadRun: Sendable {
    public let configuration: LoadConfiguration
    public let logger: Logger

    public init(configuration: LoadConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    struct Tenant: Sendable {
        var name: String
        var token: String
        var agentToken: String
    }

    public func run() async throws -> LoadReport {
        try await Self.withClient { try await run(client: $0) }
    }

    /// Runs `body` with an HTTP client for the load generator, shut down afterwards either way.
    static func withClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration())
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func run(client: HTTPClient) async throws -> LoadReport {
        let book = LatencyBook()
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var tenants: [Tenant] = []
        for index in 0..<configuration.tenants { tenants.append(try await createTenant("bench-\(run)-\(index)", client: client)) }
        let sessions = SessionCounter()
        let agents = Task { await runAgents(tenants: tenants, book: book, sessions: sessions) }
        defer { agents.cancel() }
        try await waitForAgents(sessions)
        logger.info("agents connected", metadata: ["sessions": "\(sessions.value)"])

        // Every Redis master (one server, or each master of a Redis Cluster): figures are sums.
        var masters: [RedisClient] = []
        if let url = configuration.redisURL { masters = try await Self.redisMasters(url: url) }
        let redis: [RedisClient]? = masters.isEmpty ? nil : masters
        var processes = configuration.processes
        // The generator's own share of the machine: it competes with the cluster for the cores.
        processes["loadgen"] = ProcessInfo.processInfo.processIdentifier
        for (index, master) in masters.enumerated() {
            if let pid = try? await Self.redisPID(master) { processes[masters.count == 1 ? "redis" : "redis-m\(index + 1)"] = pid }
        }
        var commandsBefore: [String: Int]?
        var memoryBefore: Int?
        if let redis {
            commandsBefore = try await Self.commandStats(redis)
            memoryBefore = try await Self.usedMemory(redis)
        }
        let samplesBefore = processes.compactMapValues { ProcessSample.read(pid: $0) }
        let sampledBefore = ContinuousClock.now

        let clock = ContinuousClock()
        let started = clock.now
        try await submit(tenants: tenants, client: client, book: book, until: started + configuration.duration)
        let submitting = clock.now - started
        let accepted = book.counts.accepted
        let drainDeadline = clock.now + configuration.drainTimeout
        var lastProgress = (book.counts.finished, clock.now)
        while book.counts.finished < accepted, clock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(20))
            if book.counts.finished != lastProgress.0 { lastProgress = (book.counts.finished, clock.now) }
        }
        let finishedAt = lastProgress.1
        let elapsed = finishedAt - started

        let samplesAfter = processes.compactMapValues { ProcessSample.read(pid: $0) }
        let sampledSeconds = Self.seconds(ContinuousClock.now - sampledBefore)
        var commandsAfter: [String: Int]?
        var memoryAfter: Int?
        if let redis {
            commandsAfter = try await Self.commandStats(redis)
            if configuration.memorySettle > .zero { try await Task.sleep(for: configuration.memorySettle) }
            memoryAfter = try await Self.usedMemory(redis)
        }
        for master in masters { await master.close() }
        let counts = book.counts
        var unfinishedStates: [String: Int]?
        if counts.finished < accepted {
            book.failed("unfinished", count: accepted - counts.finished)
            unfinishedStates = await sampleStates(book.unfinished(limit: 500), tenants: tenants, client: client)
        }
        let (toDispatch, toFinish, errors) = book.summary()
        let seconds = Self.seconds(elapsed)
        var report = LoadReport(
            startedAt: ISO8601DateFormatter().string(from: Date()),
            setup: .init(
                agents: configuration.agents, tenants: configuration.tenants, agentCapacity: configuration.agentCapacity,
                serviceTimeMs: Int(Self.seconds(configuration.serviceTime) * 1_000), pacing: Self.describe(configuration.pacing),
                batchSize: configuration.batchSize, durationSeconds: Self.seconds(submitting)),
            acceptedPerSecond: Double(accepted) / Self.seconds(submitting), completedPerSecond: Double(counts.finished) / seconds,
            accepted: accepted, completed: counts.finished, submitToDispatch: toDispatch, submitToFinished: toFinish,
            errors: errors, unfinishedStatesSampled: nil, agentsConnected: sessions.value, clusterAgentsConnected: nil, quarantinedNodes: nil,
            processes: [], redisCommandsPerTask: nil, redisCommandsTop: nil)
        report.unfinishedStatesSampled = unfinishedStates
        if let snapshot = try? await clusterSnapshot(client: client) {
            report.clusterAgentsConnected = snapshot.totals.agentsConnected
            report.quarantinedNodes = snapshot.totals.quarantinedNodes
        }
        report.processes = ProcessFigures.over(processes, before: samplesBefore, after: samplesAfter, seconds: sampledSeconds)
        if let commandsBefore, let commandsAfter, counts.finished > 0 {
            let delta = commandsAfter.merging(commandsBefore.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value > 0 }
            report.redisCommandsPerTask = Double(delta.values.reduce(0, +)) / Double(counts.finished)
            if let memoryBefore, let memoryAfter {
                report.redisBytesPerTask = Double(memoryAfter - memoryBefore) / Double(counts.finished)
            }
            report.redisCommandsTop = Dictionary(uniqueKeysWithValues: delta.sorted { $0.value > $1.value }.prefix(12).map { ($0.key, $0.value) })
        }
        return report
    }

    // MARK: Agents

    func runAgents(tenants: [Tenant], book: LatencyBook, sessions: SessionCounter) async {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<configuration.agents {
                let tenant = tenants[index % tenants.count]
                let node = "sim-\(index)"
                let tls: TLSConfiguration?
                do {
                    tls = try configuration.agentCertificates?.clientConfiguration(tenant: tenant.name, node: node)
                } catch {
                    logger.error("no certificate for a simulated agent", metadata: ["error": "\(error)"])
                    return
                }
                let agent = SimulatedAgent(
                    url: configuration.agentURL, tls: tls,
                    hello: .init(
                        tenant: tenant.name, node: node, zone: "zone-\(index % 3)", rack: "rack-\(index % 12)", labels: [:],
                        capacity: configuration.agentCapacity, version: "fluxforge-loadgen/0.1",
                        token: tls == nil ? tenant.agentToken : ""),
                    serviceTime: configuration.serviceTime, book: book, logger: Logger(label: "fluxforge.loadgen.agent", factory: { _ in SwiftLogNoOpLogHandler() }))
                group.addTask { await agent.run(sessions: sessions) }
                // Connect in waves, so 10,000 sessions do not arrive as one SYN flood.
                if index % 200 == 199 { try? await Task.sleep(for: .milliseconds(50)) }
            }
        }
    }

    func waitForAgents(_ sessions: SessionCounter) async throws {
        let deadline = ContinuousClock.now + .seconds(max(60, configuration.agents / 50))
        while sessions.value < configuration.agents {
            guard ContinuousClock.now < deadline else {
                throw LoadError("only \(sessions.value) of \(configuration.agents) agents were welcomed")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: Submissions

    private func submit(tenants: [Tenant], client: HTTPClient, book: LatencyBook, until end: ContinuousClock.Instant) async throws {
        let bodies = Self.bodies(batchSize: configuration.batchSize)
        let requests = tenants.map { tenant in
            var request = HTTPClientRequest(url: "\(configuration.api)/v1/tenants/\(tenant.name)/\(configuration.batchSize == 1 ? "tasks" : "tasks:batch")")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(tenant.token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(bodies)
            return (tenant: tenant.name, request: request)
        }
        switch configuration.pacing {
        case .closed(let concurrency):
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var index = worker
                        while ContinuousClock.now < end {
                            let (tenant, request) = requests[index % requests.count]
                            await send(request, tenant: tenant, client: client, book: book, sentAt: .now)
                            index += concurrency
                        }
                    }
                }
            }
        case .open(let tasksPerSecond):
            let perRequest = Duration.seconds(Double(configuration.batchSize) / Double(tasksPerSecond))
            let start = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                var index = 0
                while true {
                    let due = start + perRequest * index
                    guard due < end else { break }
                    if due > .now { try? await Task.sleep(until: due) }
                    let (tenant, request) = requests[index % requests.count]
                    // Latency counts from `due`, the moment the request should have left.
                    group.addTask { await send(request, tenant: tenant, client: client, book: book, sentAt: due) }
                    index += 1
                }
            }
        }
    }

    func send(
        _ request: HTTPClientRequest, tenant: String, client: HTTPClient, book: LatencyBook, sentAt: ContinuousClock.Instant,
        batchSize: Int? = nil
    ) async {
        let batchSize = batchSize ?? configuration.batchSize
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .accepted else {
                // The problem's code says which limit answered (`http_429 degraded`).
                let code = (try? JSONDecoder().decode(APIProblemBody.self, from: Data(buffer: body)))?.error.code
                book.failed("http_\(response.status.code)" + (code.map { " " + $0 } ?? ""), count: batchSize)
                return
            }
            let data = Data(buffer: body)
            if batchSize == 1, let accepted = try? JSONDecoder().decode(SubmissionAccepted.self, from: data) {
                book.accepted([accepted.id], tenant: tenant, sentAt: sentAt)
            } else if let batch = try? JSONDecoder().decode(TaskBatchAccepted.self, from: data) {
                book.accepted(batch.tasks.map(\.id), tenant: tenant, sentAt: sentAt)
            } else {
                book.failed("undecodable_answer")
            }
        } catch {
            book.failed("transport", count: batchSize)
        }
    }

    static func bodies(batchSize: Int) -> ByteBuffer {
        let task = TaskSubmission(command: ["true"], timeoutMs: 60_000)
        let data = batchSize == 1 ? try! JSONEncoder().encode(task) : try! JSONEncoder().encode(TaskBatch(tasks: Array(repeating: task, count: batchSize)))
        return ByteBuffer(bytes: data)
    }

    // MARK: Setup and Redis

    /// Limits high enough that the benchmark measures the cluster, not the door.
    static let unlimited = TenantSettings(
        maxQueued: 1_000_000, maxInFlight: 100_000, cpuBudget: 10_000_000, rateLimitPerSec: 1_000_000, burst: 1_000_000)

    func createTenant(_ name: String, client: HTTPClient, settings: TenantSettings = LoadRun.unlimited) async throws -> Tenant {
        var request = HTTPClientRequest(url: "\(configuration.api)/v1/admin/tenants/\(name)")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.adminToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(settings)))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created, let created = try? JSONDecoder().decode(TenantCreated.self, from: Data(buffer: body)),
              let token = created.token, let agentToken = created.agentToken
        else { throw LoadError("creating tenant \(name) answered \(response.status): \(String(buffer: body))") }
        return Tenant(name: name, token: token, agentToken: agentToken)
    }

    /// What became of accepted tasks no agent finished: their state and reason, read through the
    /// router for a sample (`REJECTED mode_degraded` is the scheduler shedding under overload).
    private func sampleStates(_ sample: [(id: String, tenant: String)], tenants: [Tenant], client: HTTPClient) async -> [String: Int] {
        let tokens = Dictionary(uniqueKeysWithValues: tenants.map { ($0.name, $0.token) })
        var states: [String: Int] = [:]
        for (id, tenant) in sample {
            var request = HTTPClientRequest(url: "\(configuration.api)/v1/tenants/\(tenant)/tasks/\(id)")
            request.headers.add(name: "Authorization", value: "Bearer \(tokens[tenant] ?? "")")
            guard let response = try? await client.execute(request, timeout: .seconds(10)),
                  let body = try? await response.body.collect(upTo: 1 << 20),
                  let view = try? JSONDecoder().decode(TaskView.self, from: Data(buffer: body))
            else { states["unreadable", default: 0] += 1; continue }
            states["\(view.state) \(view.reason ?? "")", default: 0] += 1
        }
        return states
    }

    private func clusterSnapshot(client: HTTPClient) async throws -> ClusterSnapshotView {
        var request = HTTPClientRequest(url: "\(configuration.api)/scheduler/debug/snapshot")
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.adminToken)")
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return try JSONDecoder().decode(ClusterSnapshotView.self, from: Data(buffer: body))
    }

    /// A client per Redis master: the server of a `redis://` URL, or every master of the Redis
    /// Cluster a `redis-cluster://` URL names (read from `CLUSTER SHARDS`).
    static func redisMasters(url: String) async throws -> [RedisClient] {
        guard let seeds = try RedisBackends.clusterSeeds(url) else { return [RedisClient(configuration: try RedisConfiguration(url: url))] }
        let cluster = RedisClusterClient(seeds: seeds)
        let endpoints = try await cluster.topology().masterEndpoints
        await cluster.close()
        return endpoints.map { endpoint in
            var configuration = seeds[0]
            configuration.host = endpoint.host
            configuration.port = endpoint.port
            return RedisClient(configuration: configuration)
        }
    }

    /// `INFO commandstats` summed over the masters.
    static func commandStats(_ masters: [RedisClient]) async throws -> [String: Int] {
        var total: [String: Int] = [:]
        for master in masters { total.merge(try await commandStats(master), uniquingKeysWith: +) }
        return total
    }

    /// `used_memory` summed over the masters.
    static func usedMemory(_ masters: [RedisClient]) async throws -> Int? {
        var total = 0
        for master in masters {
            guard let used = try await usedMemory(master) else { return nil }
            total += used
        }
        return total
    }

    static func commandStats(_ redis: RedisClient) async throws -> [String: Int] {
        let text = try await redis.send(RedisCommand("INFO", "commandstats")).string ?? ""
        var calls: [String: Int] = [:]
        // cmdstat_evalsha:calls=123,usec=…
        for line in text.split(whereSeparator: { $0.isNewline }) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            guard let range = line.range(of: "calls=") else { continue }
            calls[String(name)] = Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        return calls
    }

    /// Redis's `used_memory`: what its data takes (records, timelines, indexes, streams), in bytes.
    static func usedMemory(_ redis: RedisClient) async throws -> Int? {
        let text = try await redis.send(RedisCommand("INFO", "memory")).string ?? ""
        let line = text.split(whereSeparator: { $0.isNewline }).first { $0.hasPrefix("used_memory:") }
        return line.flatMap { Int($0.dropFirst("used_memory:".count)) }
    }

    static func redisPID(_ redis: RedisClient) async throws -> Int32? {
        let text = try await redis.send(RedisCommand("INFO", "server")).string ?? ""
        let line = text.split(whereSeparator: { $0.isNewline }).first { $0.hasPrefix("process_id:") }
        return line.flatMap { Int32($0.dropFirst("process_id:".count)) }
    }

    static func clientConfiguration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .seconds(2)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256))
        configuration.httpVersion = .http1Only
        return configuration
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func describe(_ pacing: LoadConfiguration.Pacing) -> String {
        switch pacing {
        case .open(let rate): "open loop \(rate) tasks/s"
        case .closed(let concurrency): "closed loop, \(concurrency) requests in flight"
        }
    }
}

/// A load run that could not start or finish, with what to do about it.
public struct LoadError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
