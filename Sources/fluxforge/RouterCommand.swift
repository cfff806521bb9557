import ArgumentParser
import FluxIdentity
import FluxRouter
import FluxTLS
import Foundation
import Logging

/// `fluxforge router`: runs the cluster's public entry (tenant API and agent sessions).
struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Run a router: forward tenant calls and agent sessions to the shard that owns each tenant's slot.")

    @Option(help: "Redis URL: redis://[user:password@]host:port/db, or through Sentinel: redis-sentinel://[user:password@]sentinel:port[,sentinel:port…]/<master-name>[/db][?sentinel-password=…] (or FLUXFORGE_REDIS_URL).")
    var redis: String = ProcessInfo.processInfo.environment["FLUXFORGE_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"

    @Option(help: "Address the tenant and admin API listens on.")
    var apiHost: String = "127.0.0.1"

    @Option(help: "Port of the tenant and admin API.")
    var apiPort: Int = 7300

    @Option(help: "Address agent sessions are accepted on.")
    var agentHost: String = "127.0.0.1"

    @Option(help: "Port of agent sessions (WebSocket).")
    var agentPort: Int = 7301

    @Option(help: "Admin bearer token, the shards' (or FLUXFORGE_ADMIN_TOKEN).")
    var adminToken: String?

    @Option(help: "Milliseconds a call may spend finding a shard that answers before the router gives up (submissions are then written directly).")
    var retryBudgetMs: Int = 3_000
    @Option(help: "Milliseconds one forwarded request may take, connect to last byte; past it the call counts as maybe delivered.")
    var forwardTimeoutMs: Int = 15_000

    @Flag(help: "Forward submissions to the owning shard instead of writing them here (the way before issue 16; for comparisons).")
    var submitThroughShards = false
    @Option(help: "Milliseconds an idle API connection is kept open.")
    var httpIdleTimeoutMs: Int = 120_000
    @Option(help: "API connections held open at once; more wait in the listen backlog until one closes.")
    var httpMaxConnections: Int = 10_000
    @Option(help: "Hours a finished task's record and timeline are kept (the same on every router and shard).")
    var retentionHours: Int = 24
    @Option(help: "When a write counts as done: local (the Redis master has it) or replica (a replica has it too: WAIT; a submission then answers 503 not_replicated when none confirms in time).")
    var redisAck: String = "local"
    @Option(help: "Milliseconds a write waits for a replica with --redis-ack replica.")
    var redisAckTimeoutMs: Int = 1_000
    @Option(help: "Agent connections held open at once; more wait in the listen backlog until one closes.")
    var agentMaxConnections: Int = 50_000
    @Option(help: "Event streams (server-sent events) served at once, each holding a Redis connection; more answer 503.")
    var maxEventStreams: Int = 1_000
    @Option(help: "Tasks of one tenant this router writes to Redis at once; more wait their turn (64 requests a tenant, then 429 writes_queued), so one tenant's flood does not queue ahead of another's submissions. 0: no limit.")
    var tenantWritesInFlight: Int = 256
    @Option(help: "Submissions of one tenant waiting for their turn to be written before more are answered 429 writes_queued.")
    var tenantWritesWaiting: Int = 64

    @Option(help: "Milliseconds between two reads of the slot owners from Redis.")
    var refreshMs: Int = 500

    @Option(help: "PEM certificate (chain) of the tenant API; with --tls-key the API is HTTPS.")
    var tlsCert: String?
    @Option(help: "PEM private key of the tenant API's certificate.")
    var tlsKey: String?
    @OptionGroup var agentListener: AgentListenerOptions
    @Option(help: "SPIFFE trust domain agent certificates must name.")
    var trustDomain: String = "fluxforge"

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard (100...3_600_000).contains(httpIdleTimeoutMs) else { throw ValidationError("--http-idle-timeout-ms must be within 100…3600000") }
        guard (2...1_000_000).contains(httpMaxConnections) else { throw ValidationError("--http-max-connections must be within 2…1000000") }
        guard (1...8_760).contains(retentionHours) else { throw ValidationError("--retention-hours must be within 1…8760") }
        guard ["local", "replica"].contains(redisAck) else { throw ValidationError("--redis-ack must be local or replica") }
        guard (1...60_000).contains(redisAckTimeoutMs) else { throw ValidationError("--redis-ack-timeout-ms must be within 1…60000") }
        guard (2...1_000_000).contains(agentMaxConnections) else { throw ValidationError("--agent-max-connections must be within 2…1000000") }
        guard (0...1_000_000).contains(tenantWritesInFlight) else { throw ValidationError("--tenant-writes-in-flight must be within 0…1000000") }
        guard (0...100_000).contains(tenantWritesWaiting) else { throw ValidationError("--tenant-writes-waiting must be within 0…100000") }
        guard (0...100_000).contains(maxEventStreams) else { throw ValidationError("--max-event-streams must be within 0…100000") }
        guard (1...65_535).contains(apiPort), (1...65_535).contains(agentPort) else { throw ValidationError("ports must be within 1…65535") }
        guard (0...60_000).contains(retryBudgetMs) else { throw ValidationError("--retry-budget-ms must be within 0…60000") }
        guard (100...600_000).contains(forwardTimeoutMs) else { throw ValidationError("--forward-timeout-ms must be within 100…600000") }
        guard (50...10_000).contains(refreshMs) else { throw ValidationError("--refresh-ms must be within 50…10000") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        for file in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file)")
        }
        guard AgentIdentity.isTrustDomain(trustDomain) else { throw ValidationError("--trust-domain must be 1…255 characters of [a-z0-9._-]") }
        guard resolvedAdminToken != nil else { throw ValidationError("an admin token is required: --admin-token or FLUXFORGE_ADMIN_TOKEN") }
    }

    private var resolvedAdminToken: String? {
        adminToken ?? ProcessInfo.processInfo.environment["FLUXFORGE_ADMIN_TOKEN"]
    }

    func run() async throws {
        var configuration = RouterConfiguration(redisURL: redis, adminToken: resolvedAdminToken ?? "")
        configuration.apiHost = apiHost
        configuration.apiPort = apiPort
        configuration.agentHost = agentHost
        configuration.agentPort = agentPort
        configuration.retryBudget = .milliseconds(retryBudgetMs)
        configuration.forwardTimeout = .milliseconds(forwardTimeoutMs)
        configuration.submitThroughShards = submitThroughShards
        configuration.httpIdleTimeout = .milliseconds(httpIdleTimeoutMs)
        configuration.httpMaxConnections = httpMaxConnections
        configuration.retention = .seconds(retentionHours * 3_600)
        configuration.redisAckReplicas = redisAck == "replica" ? 1 : 0
        configuration.redisAckTimeout = .milliseconds(redisAckTimeoutMs)
        configuration.maxEventStreams = maxEventStreams
        configuration.tenantWritesInFlight = tenantWritesInFlight
        configuration.tenantWritesWaiting = tenantWritesWaiting
        configuration.agentMaxConnections = agentMaxConnections
        configuration.refreshInterval = .milliseconds(refreshMs)
        configuration.trustDomain = trustDomain
        configuration.insecureDev = agentListener.insecureDev
        if let tlsCert, let tlsKey { configuration.apiTLS = APITLSFiles(certificate: tlsCert, key: tlsKey) }
        configuration.agentTLS = agentListener.files
        var logger = Logger(label: "fluxforge.router")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await RouterApp(configuration: configuration, logger: logger).run()
    }
}
