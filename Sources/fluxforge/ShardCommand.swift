import ArgumentParser
import FluxIdentity
import FluxShard
import FluxTLS
import Foundation
import Logging

/// `fluxforge shard`: runs one scheduler shard (tenant API, agent gateway, scheduling loops).
struct ShardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard", abstract: "Run a scheduler shard: tenant API, agent sessions and the scheduling loops.")

    @Option(name: .customLong("id"), help: "Stable shard id (lease holder and ingest consumer name).")
    var shardID: String = "shard-1"

    @Option(help: "Redis URL: redis://[user:password@]host:port/db, or through Sentinel: redis-sentinel://[user:password@]sentinel:port[,sentinel:port…]/<master-name>[/db][?sentinel-password=…] (or FLUXFORGE_REDIS_URL).")
    var redis: String = ProcessInfo.processInfo.environment["FLUXFORGE_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"

    @Option(help: "Address the tenant API listens on.")
    var apiHost: String = "127.0.0.1"

    @Option(help: "Port of the tenant API.")
    var apiPort: Int = 7400

    @Option(help: "Address the agent gateway listens on.")
    var agentHost: String = "127.0.0.1"

    @Option(help: "Port of the agent gateway (WebSocket).")
    var agentPort: Int = 7401

    @Option(help: "Host published for the router to reach this shard (or FLUXFORGE_ADVERTISE_HOST; default: the listen hosts).")
    var advertiseHost: String? = ProcessInfo.processInfo.environment["FLUXFORGE_ADVERTISE_HOST"]

    @Option(help: "Admin bearer token (or FLUXFORGE_ADMIN_TOKEN).")
    var adminToken: String?

    @Option(help: "Slot lease TTL in milliseconds.")
    var leaseTTLMs: Int = 10_000

    @Option(help: "Agent ping interval in milliseconds.")
    var heartbeatMs: Int = 2_000

    @Option(help: "Redis command latency p99 (ms) above which the scheduler goes DEGRADED; it recovers below half.")
    var redisLatencyDegradeMs: Int = 100

    @Option(help: "The shard's own lag p99 (ms its work waits for the scheduler's turn) above which it goes DEGRADED (overload_shard); it recovers below half.")
    var shardLagDegradeMs: Int = 500
    @Option(help: "Refuse submissions (429 backlog) of tenants at or over their share of the waiting tasks once these would take longer than this many ms to drain; 0 never.")
    var maxBacklogMs: Int = 30_000

    @Option(help: "Most ingest entries read from one slot's stream at a time; what is read is admitted at most 128 of a tenant a turn, so larger reads reach a tenant's entries behind a flood's in the same stream sooner.")
    var ingestBatch: Int = 512

    @Option(help: "Tasks of one tenant this shard writes to Redis at once when submissions reach it; more wait their turn (64 requests a tenant, then 429 writes_queued). 0: no limit.")
    var tenantWritesInFlight: Int = 256

    @Option(help: "Interval (ms) over which idle failure rates of nodes and domains fade by x0.8; shorter recovers sooner.")
    var failureFadeMs: Int = 10_000

    @Option(help: "Milliseconds an agent connection has to send its hello before it is closed.")
    var agentHelloTimeoutMs: Int = 10_000
    @Option(help: "Frames per second one agent session may send before it is closed as a flood.")
    var agentFramesPerSecond: Int = 1_000
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
    @Option(help: "Most tasks waiting for a node at once; beyond it tasks are shed, first from the tenants furthest over their fair share.")
    var maxWaitingTasks: Int = 2_000_000
    @Option(help: "Milliseconds between two looks for tenants being deleted (a deletion takes two; at least the 2 s authentication cache).")
    var tenantSweepIntervalMs: Int = 2_000
    @Option(help: "Milliseconds between two reconciliation rounds over the desired states of the shard's slots.")
    var reconcileIntervalMs: Int = 500
    @Option(help: "Directory of the cluster CA (ca.crt, ca.key from `fluxforge ca init`): the shard signs the certificates of agents that enroll. Without it, enrollment is off.")
    var ca: String?
    @OptionGroup var agentListener: AgentListenerOptions
    @Flag(help: "Serve the tenant API over mutual TLS with the --agent-tls-* certificate and CA: only clients with a certificate of the cluster CA (routers) are served, and the member record says https://.")
    var apiMTLS = false
    @Option(help: "Port of a plain-HTTP listener serving only /healthz, /readyz and /metrics (for probes and scrapers without a client certificate).")
    var opsPort: Int?
    @Option(help: "SPIFFE trust domain agent certificates name (spiffe://<domain>/tenant/<t>/node/<n>).")
    var trustDomain: String = "fluxforge"
    @Option(help: "Hours an agent certificate is valid from enrollment (agents renew at two thirds of it).")
    var agentCertHours: Int = 24
    @Option(help: "Seconds instead of hours, at least 15 (for tests of renewal).")
    var agentCertSeconds: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard (100...3_600_000).contains(httpIdleTimeoutMs) else { throw ValidationError("--http-idle-timeout-ms must be within 100…3600000") }
        guard (2...1_000_000).contains(httpMaxConnections) else { throw ValidationError("--http-max-connections must be within 2…1000000") }
        guard (1...8_760).contains(retentionHours) else { throw ValidationError("--retention-hours must be within 1…8760") }
        guard ["local", "replica"].contains(redisAck) else { throw ValidationError("--redis-ack must be local or replica") }
        guard (1...60_000).contains(redisAckTimeoutMs) else { throw ValidationError("--redis-ack-timeout-ms must be within 1…60000") }
        guard (2...1_000_000).contains(agentMaxConnections) else { throw ValidationError("--agent-max-connections must be within 2…1000000") }
        guard (1...65_535).contains(apiPort), (1...65_535).contains(agentPort) else { throw ValidationError("ports must be within 1…65535") }
        if let opsPort, !(1...65_535).contains(opsPort) { throw ValidationError("--ops-port must be within 1…65535") }
        if apiMTLS, agentListener.files == nil { throw ValidationError("--api-mtls needs --agent-tls-cert, --agent-tls-key and --agent-client-ca") }
        guard (1_000...600_000).contains(leaseTTLMs) else { throw ValidationError("--lease-ttl-ms must be within 1000…600000") }
        guard (100...60_000).contains(heartbeatMs) else { throw ValidationError("--heartbeat-ms must be within 100…60000") }
        guard (1...60_000).contains(redisLatencyDegradeMs) else { throw ValidationError("--redis-latency-degrade-ms must be within 1…60000") }
        guard (1...600_000).contains(shardLagDegradeMs) else { throw ValidationError("--shard-lag-degrade-ms must be within 1…600000") }
        guard (0...3_600_000).contains(maxBacklogMs) else { throw ValidationError("--max-backlog-ms must be within 0…3600000") }
        guard (0...1_000_000).contains(tenantWritesInFlight) else { throw ValidationError("--tenant-writes-in-flight must be within 0…1000000") }
        guard (1...10_000).contains(ingestBatch) else { throw ValidationError("--ingest-batch must be within 1…10000") }
        guard (100...600_000).contains(failureFadeMs) else { throw ValidationError("--failure-fade-ms must be within 100…600000") }
        if let advertiseHost, advertiseHost.isEmpty || advertiseHost.utf8.count > 253
            || !advertiseHost.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x2E || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) {
            throw ValidationError("--advertise-host must be a host name or IPv4 address ([A-Za-z0-9.-], at most 253 characters)")
        }
        guard (100...600_000).contains(agentHelloTimeoutMs) else { throw ValidationError("--agent-hello-timeout-ms must be within 100…600000") }
        guard (10...100_000_000).contains(maxWaitingTasks) else { throw ValidationError("--max-waiting-tasks must be within 10…100000000") }
        guard (2_000...3_600_000).contains(tenantSweepIntervalMs) else { throw ValidationError("--tenant-sweep-interval-ms must be within 2000…3600000") }
        guard (100...3_600_000).contains(reconcileIntervalMs) else { throw ValidationError("--reconcile-interval-ms must be within 100…3600000") }
        guard (1...1_000_000).contains(agentFramesPerSecond) else { throw ValidationError("--agent-frames-per-second must be within 1…1000000") }
        guard AgentIdentity.isTrustDomain(trustDomain) else { throw ValidationError("--trust-domain must be 1…255 characters of [a-z0-9._-]") }
        guard (1...8_760).contains(agentCertHours) else { throw ValidationError("--agent-cert-hours must be within 1…8760") }
        if let agentCertSeconds, !(15...31_536_000).contains(agentCertSeconds) {
            throw ValidationError("--agent-cert-seconds must be within 15…31536000")
        }
        guard resolvedAdminToken != nil else { throw ValidationError("an admin token is required: --admin-token or FLUXFORGE_ADMIN_TOKEN") }
    }

    private var resolvedAdminToken: String? {
        adminToken ?? ProcessInfo.processInfo.environment["FLUXFORGE_ADMIN_TOKEN"]
    }

    func run() async throws {
        var configuration = ShardConfiguration(shardID: shardID, redisURL: redis, adminToken: resolvedAdminToken ?? "")
        configuration.apiHost = apiHost
        configuration.apiPort = apiPort
        configuration.agentHost = agentHost
        configuration.agentPort = agentPort
        configuration.advertiseHost = advertiseHost
        configuration.leaseTTL = .milliseconds(leaseTTLMs)
        configuration.heartbeatInterval = .milliseconds(heartbeatMs)
        configuration.degradeAboveRedisLatency = .milliseconds(redisLatencyDegradeMs)
        configuration.degradeAboveShardLag = .milliseconds(shardLagDegradeMs)
        configuration.maxBacklog = .milliseconds(maxBacklogMs)
        configuration.ingestBatch = ingestBatch
        configuration.tenantWritesInFlight = tenantWritesInFlight
        configuration.failureFadeInterval = .milliseconds(failureFadeMs)
        configuration.agentHelloTimeout = .milliseconds(agentHelloTimeoutMs)
        configuration.agentFramesPerSecond = agentFramesPerSecond
        configuration.httpIdleTimeout = .milliseconds(httpIdleTimeoutMs)
        configuration.httpMaxConnections = httpMaxConnections
        configuration.retention = .seconds(retentionHours * 3_600)
        configuration.redisAckReplicas = redisAck == "replica" ? 1 : 0
        configuration.redisAckTimeout = .milliseconds(redisAckTimeoutMs)
        configuration.agentMaxConnections = agentMaxConnections
        configuration.reconcileInterval = .milliseconds(reconcileIntervalMs)
        configuration.tenantSweepInterval = .milliseconds(tenantSweepIntervalMs)
        configuration.maxWaitingTasks = maxWaitingTasks
        configuration.caDirectory = ca
        configuration.insecureDev = agentListener.insecureDev
        configuration.agentTLS = agentListener.files
        configuration.apiMutualTLS = apiMTLS
        configuration.opsPort = opsPort
        configuration.trustDomain = trustDomain
        configuration.agentCertificateValidity = .seconds(agentCertSeconds ?? agentCertHours * 3_600)
        var logger = Logger(label: "fluxforge.shard")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        logger[metadataKey: "shard"] = "\(shardID)"
        try await ShardApp(configuration: configuration, logger: logger).run()
    }
}
