public import Logging
import AsyncHTTPClient
import FluxRedis
import FluxRuntime
import FluxTLS
import Hummingbird
import HummingbirdTLS
import HummingbirdCore
import HummingbirdWebSocket
import ServiceLifecycle

/// The router process: the cluster's public entry for tenant calls and agent sessions. It holds
/// no task state — only a table of who owns which slot, re-read from Redis — so any number of
/// routers can run side by side and a restarted router is ready in one Redis read.
public struct RouterApp: Sendable {
    public let configuration: RouterConfiguration
    public let logger: Logger

    public init(configuration: RouterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT.
    public func run() async throws {
        let redis = try RedisBackends.make(url: configuration.redisURL, logger: logger)
        var configuration = configuration
        let membership = Membership(redis: redis, memberTTLMs: configuration.memberTTL.milliseconds)
        configuration.slotCount = try await Self.clusterSlotCount(membership, configured: configuration.slotCount, logger: logger)
        let directory = OwnerDirectory(redis: redis, configuration: configuration, logger: logger)
        await directory.refresh()
        let shardTLS = try configuration.agentTLS.map(AgentTLS.shardClientConfiguration)
        let client = ShardForwarder.makeClient(shardTLS: shardTLS)
        let forwarder = ShardForwarder(client: client, timeout: configuration.forwardTimeout, hasClientCertificate: shardTLS != nil)
        let tenants = TenantStore(redis: redis, slotCount: configuration.slotCount)
        let auth = Authenticator(tenants: tenants, adminToken: configuration.adminToken)
        let eventStreams = EventStreamGate(limit: configuration.maxEventStreams)
        let metrics = RouterMetrics(eventStreamGate: eventStreams)
        let signer = TaskIDSigner(redis: redis)
        await signer.prepare()

        var taskStore = TaskStore(
            redis: redis, slotCount: configuration.slotCount, retention: configuration.retention,
            ack: ReplicaAck(replicas: configuration.redisAckReplicas, timeoutMs: Int(configuration.redisAckTimeout.milliseconds)))
        if redis.oneHashSlotPerCommand { taskStore.owner = { slot in directory.table.owner(ofSlot: slot)?.shard.id } }

        let router = Router()
        router.middlewares.add(ProblemMiddleware())
        TenantProxy(
            directory: directory, forwarder: forwarder, auth: auth,
            submissions: SubmissionEndpoint(
                tasks: taskStore,
                signer: signer,
                refused: { tenant, code in metrics.submissionRefused(tenant: tenant, code: code) },
                door: { [slotCount = configuration.slotCount] tenant, leastUrgentClass in
                    directory.table.owner(ofSlot: Slotting.slot(forTenant: tenant, slotCount: slotCount))?.shard
                        .degradedRefusal(of: tenant, leastUrgentClass: leastUrgentClass)
                },
                writeGate: TenantWriteGate(tasksInFlight: configuration.tenantWritesInFlight, maxWaiting: configuration.tenantWritesWaiting)),
            metrics: metrics, configuration: configuration,
            events: EventStreamRoutes(redis: redis, auth: auth, slotCount: configuration.slotCount, gate: eventStreams)
        ).register(on: router)
        ClusterRoutes(directory: directory, forwarder: forwarder, auth: auth, redis: redis, metrics: metrics, configuration: configuration)
            .register(on: router)
        TenantAdminRoutes(admin: TenantAdmin(tenants: tenants, actor: "router"), auth: auth, nowMs: { WallClock.nowMs() })
            .register(on: router)
        DashboardRoutes().register(on: router)
        // Idle keep-alive connections of clients are closed after this long.
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .milliseconds(configuration.httpIdleTimeout.milliseconds)))
        let apiConfiguration = ApplicationConfiguration(
            address: .hostname(configuration.apiHost, port: configuration.apiPort), serverName: "fluxforge-router",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.httpMaxConnections))
        let api: any Service
        if let files = configuration.apiTLS {
            api = Application(
                router: router, server: try .tls(http1, tlsConfiguration: try AgentTLS.apiServerConfiguration(files)),
                configuration: apiConfiguration, logger: logger)
        } else {
            api = Application(router: router, server: http1, configuration: apiConfiguration, logger: logger)
        }

        let revocations = configuration.agentTLS == nil ? nil : RevocationWatcher(
            revocations: CertificateRevocations(redis: redis), interval: configuration.revocationPollInterval, logger: logger)
        let relay = AgentRelay(
            directory: directory, metrics: metrics, signer: signer,
            requireCertificate: configuration.agentTLS != nil, trustDomain: configuration.trustDomain, revocations: revocations,
            shardTLS: shardTLS)
        let agentRouter = Router(context: AgentConnectionContext.self)
        agentRouter.ws("v1/agent/connect") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let channel = context.requestContext.channel
            let peer = await AgentTLS.peer(of: channel)
            try await relay.run(inbound, outbound, peer: peer, closeConnection: { try? await channel.close() }, logger: context.logger)
        }
        let agentListener = ApplicationConfiguration(
            address: .hostname(configuration.agentHost, port: configuration.agentPort),
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.agentMaxConnections))
        let agents: any Service
        if let files = configuration.agentTLS {
            let server = try HTTPServerBuilder.tls(
                .http1WebSocketUpgrade(webSocketRouter: agentRouter), tlsConfiguration: try AgentTLS.serverConfiguration(files))
            agents = Application(router: Router(), server: server, configuration: agentListener, logger: logger)
        } else {
            logger.error("INSECURE: agents connect over plain ws:// and authenticate with the tenant's shared agent token (--insecure-dev); never in production")
            agents = Application(
                router: Router(),
                server: .http1WebSocketUpgrade(webSocketRouter: agentRouter),
                configuration: agentListener, logger: logger)
        }

        let group = ServiceGroup(configuration: .init(
            services: [.init(service: DirectoryService(directory: directory)), .init(service: api), .init(service: agents)]
                + (revocations.map { [.init(service: RevocationService(watcher: $0))] } ?? [])
                // Last, so the first to hear SIGTERM: open event streams end before the API waits for them.
                + [.init(service: EventStreamCloser(gate: eventStreams))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("router starting", metadata: [
            "api": "\(configuration.apiHost):\(configuration.apiPort)", "agents": "\(configuration.agentHost):\(configuration.agentPort)",
            "agentTLS": "\(configuration.agentTLS != nil ? "mTLS" : "off (dev)")", "apiTLS": "\(configuration.apiTLS != nil ? "on" : "off")",
            "redis": "\(RedisBackends.redacted(configuration.redisURL))", "slots": "\(configuration.slotCount)",
            "ownedSlots": "\(directory.table.ownedSlotCount)",
        ])
        try await group.run()
        try? await client.shutdown()
        await redis.close()
    }

    /// The cluster's slot count as recorded in `ff:cluster` by the first shard; the router must
    /// hash tenants exactly as the shards do. Waits for Redis, not for shards.
    static func clusterSlotCount(_ membership: Membership, configured: Int, logger: Logger) async throws -> Int {
        while true {
            do {
                let recorded = try await membership.ensureCluster(slotCount: configured, nowMs: WallClock.nowMs())
                if recorded != configured {
                    logger.notice("using the cluster's slot count", metadata: ["configured": "\(configured)", "cluster": "\(recorded)"])
                }
                return recorded
            } catch {
                logger.warning("waiting for Redis", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Keeps the owner table fresh for as long as the router runs.
struct DirectoryService: Service {
    let directory: OwnerDirectory

    func run() async throws {
        await cancelWhenGracefulShutdown { await directory.run() }
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
