import FluxRedis
import FluxRuntime
import Logging
import ServiceLifecycle

/// The shard's background work as one `Service`: slot leases, the scheduler driver, the
/// ingest consumer and the trimming of acknowledged ingest entries. On graceful shutdown it stops intake, tells agents to reconnect elsewhere
/// and releases its leases, so a successor need not wait for them to expire.
struct ShardLoops: Service {
    let services: ShardServices
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await leaseLoop() }
            group.addTask { await services.driver.run() }
            group.addTask { await IngestConsumer(services: services, logger: logger).run() }
            group.addTask { await trimLoop() }
            group.addTask { await membershipLoop() }
            try? await gracefulShutdown()
            logger.info("shard shutting down: stopping intake and releasing leases")
            group.cancelAll()
        }
        services.sessions.closeAll(reason: "shard shutting down")
        try? await services.leases.release(services.leases.slots)
        try? await services.membership.leave(services.shardID)
    }

    /// Registers the cluster's slot count once, then heartbeats this shard's membership.
    private func membershipLoop() async {
        let configuration = services.configuration
        let member = Membership.Member(
            id: services.shardID, api: "\(configuration.apiHost):\(configuration.apiPort)",
            agent: "\(configuration.agentHost):\(configuration.agentPort)", startedMs: Clock.nowMs(), version: configuration.version)
        var registered = false
        while !Task.isCancelled {
            do {
                if !registered {
                    let slots = try await services.membership.ensureCluster(slotCount: configuration.slotCount, nowMs: Clock.nowMs())
                    if slots != configuration.slotCount {
                        logger.critical("cluster was created with another slot count", metadata: ["cluster": "\(slots)", "shard": "\(configuration.slotCount)"])
                    }
                    registered = true
                }
                try await services.membership.heartbeat(member, nowMs: Clock.nowMs())
            } catch {
                logger.warning("membership heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.memberHeartbeatInterval)
        }
    }

    /// Every 5 s, drops ingest entries the group has delivered and acknowledged (IngestTrimmer).
    private func trimLoop() async {
        let trimmer = IngestTrimmer(redis: services.redis)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            do {
                try await trimmer.trim(slots: services.driver.activeSlots)
            } catch {
                logger.debug("ingest trim skipped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Single-shard mode: this shard wants every slot. It acquires what is free, renews what it
    /// holds every third of the TTL, and presumes everything lost once renewals have failed for
    /// a whole TTL (someone else may own the slots by then).
    private func leaseLoop() async {
        let wanted = Array(0..<services.configuration.slotCount)
        let period = services.configuration.leaseTTL / 3
        var lastSuccess = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let lost = try await services.leases.renew()
                let missing = wanted.filter { services.leases.lease(forSlot: $0) == nil }
                let acquired = try await services.leases.acquire(missing)
                lastSuccess = .now
                if !lost.isEmpty { await services.driver.slotsLost(lost) }
                if !acquired.isEmpty { await services.driver.slotsAcquired(acquired.keys.sorted()) }
            } catch {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
                services.driver.redisFailed(error)
                if ContinuousClock.now - lastSuccess > services.configuration.leaseTTL {
                    let dropped = services.leases.slots
                    services.leases.dropAll()
                    if !dropped.isEmpty { await services.driver.slotsLost(dropped) }
                }
            }
            try? await Task.sleep(for: period)
        }
    }
}
