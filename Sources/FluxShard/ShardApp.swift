public import Logging
import FluxRedis
import FluxIdentity
import FluxRuntime
import FluxTLS
import HummingbirdTLS
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Prometheus
import ServiceLifecycle

/// A shard process: the tenant API, the agent gateway and the scheduling loops, run as one
/// `ServiceGroup` so SIGTERM stops intake first, then the loops, then releases the leases.
public struct ShardApp: Sendable {
    public let configuration: ShardConfiguration
    public let logger: Logger

    public init(configuration: ShardConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        // Every line of this process names its shard (docs/runbook.md, structured logs).
        if logger[metadataKey: "shard"] == nil { logger[metadataKey: "shard"] = "\(configuration.shardID)" }
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT.
    public func run() async throws {
        let redis = try RedisBackends.make(url: configuration.redisURL, logger: logger)
        let ca = try configuration.caDirectory.map { try ClusterCA(directory: $0) }
        // The latency probe's own client: its PINGs never queue behind the shard's pipelines.
        let probeRedis = try RedisBackends.make(url: configuration.redisURL, logger: logger)
        let services = Self.services(configuration: configuration, redis: redis, probeRedis: probeRedis, ca: ca, logger: logger)
        // Idle keep-alive connections are closed (a client cannot hold sockets for free);
        // longer than the router's pool keeps them, so the router always closes first.
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .milliseconds(configuration.httpIdleTimeout.milliseconds)))
        let apiAddress = ApplicationConfiguration(
            address: .hostname(configuration.apiHost, port: configuration.apiPort), serverName: "fluxforge-shard",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.httpMaxConnections))
        let api: any Service
        if configuration.apiMutualTLS, let files = configuration.agentTLS {
            // The same certificate and client CA as the agent listener: a client certificate of
            // the cluster CA is required at the handshake (routers present theirs).
            api = Application(
                router: ShardRouter.api(services), server: try .tls(http1, tlsConfiguration: try AgentTLS.serverConfiguration(files)),
                configuration: apiAddress, logger: logger)
        } else {
            api = Application(router: ShardRouter.api(services), server: http1, configuration: apiAddress, logger: logger)
        }
        let ops: [ServiceGroupConfiguration.ServiceConfiguration] = configuration.opsPort.map { port in
            [.init(service: Application(
                router: ShardRouter.ops(services), server: http1,
                configuration: .init(address: .hostname(configuration.apiHost, port: port), serverName: "fluxforge-shard-ops",
                                     availableConnectionsDelegate: MaximumAvailableConnections(1_000)),
                logger: logger))]
        } ?? []
        let agentServer = HTTPServerBuilder.http1WebSocketUpgrade(webSocketRouter: ShardRouter.agents(services, logger: logger))
        let agentAddress = ApplicationConfiguration(
            address: .hostname(configuration.agentHost, port: configuration.agentPort),
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.agentMaxConnections))
        let agents: any Service
        if let files = configuration.agentTLS {
            agents = Application(
                router: Router(), server: try .tls(agentServer, tlsConfiguration: try AgentTLS.serverConfiguration(files)),
                configuration: agentAddress, logger: logger)
        } else {
            logger.error("INSECURE: agents connect over plain ws:// and authenticate with the tenant's shared agent token (--insecure-dev); never in production")
            agents = Application(router: Router(), server: agentServer, configuration: agentAddress, logger: logger)
        }
        let loops = ShardLoops(services: services, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: loops), .init(service: api), .init(service: agents)] + ops
                + (services.revocations.map { [.init(service: RevocationService(watcher: $0))] } ?? [])
                // Last, so the first to hear SIGTERM: open event streams end before the API waits for them.
                + [.init(service: EventStreamCloser(gate: services.eventStreams))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("shard starting", metadata: [
            "shard": "\(configuration.shardID)", "api": "\(configuration.apiHost):\(configuration.apiPort)",
            "apiTLS": "\(configuration.apiMutualTLS ? "mTLS" : "off")", "ops": "\(configuration.opsPort.map(String.init) ?? "none")",
            "agents": "\(configuration.agentHost):\(configuration.agentPort)", "redis": "\(RedisBackends.redacted(configuration.redisURL))",
        ])
        try await group.run()
        await redis.close()
    }

    /// Wires the shard's parts; nothing here does I/O until the loops and servers start.
    static func services(
        configuration: ShardConfiguration, redis: any RedisBackend, probeRedis: any RedisBackend, ca: ClusterCA? = nil, logger: Logger
    ) -> ShardServices {
        let tenants = TenantStore(redis: redis, slotCount: configuration.slotCount)
        let leases = SlotLeases(shardID: configuration.shardID, ttlMs: configuration.leaseTTL.milliseconds, redis: redis)
        let sessions = AgentSessions()
        // A registry of its own per shard: nothing global, so tests may run several shards.
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ShardMetrics.durationBuckets
        let metrics = ShardMetrics(factory: factory)
        let driver = SchedulerDriver(
            configuration: configuration, redis: redis, probeRedis: probeRedis, leases: leases, sessions: sessions, metrics: metrics,
            logger: logger)
        var tasks = TaskStore(
            redis: redis, slotCount: configuration.slotCount, retention: configuration.retention,
            ack: ReplicaAck(replicas: configuration.redisAckReplicas, timeoutMs: Int(configuration.redisAckTimeout.milliseconds)))
        // A submission to this shard's own endpoint is for a slot it owns (the router sends it
        // here because it does): ring its own doorbell.
        if redis.oneHashSlotPerCommand { tasks.owner = { [shardID = configuration.shardID] _ in shardID } }
        return ShardServices(
            configuration: configuration, redis: redis, tasks: tasks,
            tenants: tenants, auth: Authenticator(tenants: tenants, adminToken: configuration.adminToken),
            leases: leases, sessions: sessions, driver: driver, metrics: metrics, metricsRegistry: registry,
            membership: Membership(redis: redis, memberTTLMs: configuration.memberTTL.milliseconds),
            signer: TaskIDSigner(redis: redis), ca: ca,
            revocations: configuration.agentTLS == nil ? nil : RevocationWatcher(
                revocations: CertificateRevocations(redis: redis), interval: .milliseconds(250), logger: logger))
    }
}

/// Ends the open event streams when graceful shutdown starts: the HTTP server waits for every
/// request in progress, and a stream would otherwise never finish.
struct EventStreamCloser: Service {
    let gate: EventStreamGate

    func run() async throws {
        try? await gracefulShutdown()
        gate.close()
    }
}
