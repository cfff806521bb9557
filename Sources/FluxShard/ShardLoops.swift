import FluxCore
import FluxRedis
import FluxRuntime
import Logging
import ServiceLifecycle

/// The shard's background work as one `Service`: slot leases, the scheduler driver, the
/// ingest consumer, the trimming of acknowledged ingest entries, membership, pings and the
/// reconciler of desired states. On graceful shutdown it stops intake, tells agents to reconnect elsewhere
/// and releases its leases, so a successor need not wait for them to expire.
struct ShardLoops: Service {
    let services: ShardServices
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await services.signer.prepare() }
            group.addTask { await leaseLoop() }
            group.addTask { await services.driver.run() }
            group.addTask { [driver = services.driver, metrics = services.metrics] in
                await driver.redisProbe.run(metrics: metrics, failed: { driver.redisFailed($0) })
            }
            group.addTask { await IngestConsumer(services: services, logger: logger).run() }
            group.addTask { await trimLoop() }
            group.addTask { await membershipLoop() }
            group.addTask { await pingLoop() }
            group.addTask { await Reconciler(services: services, logger: logger).run() }
            group.addTask { await tenantDeletionLoop() }
            try? await gracefulShutdown()
            logger.info("shard shutting down: stopping intake and releasing leases")
            group.cancelAll()
        }
        services.sessions.closeAll(reason: "shard shutting down")
        try? await services.leases.release(services.leases.slots)
        try? await services.membership.leave(services.shardID)
    }

    /// Finishes the deletion of tenants whose slot this shard owns (`ff:deleting`): first it
    /// closes their agents' sessions (their hello then fails: no token is valid), and one round
    /// later, when no session of theirs can write a node record any more and every process's
    /// authentication cache (2 s) has forgotten their token, removes their keys.
    private func tenantDeletionLoop() async {
        let sweeper = TenantSweeper(redis: services.redis, slotCount: services.configuration.slotCount)
        var closed: Set<String> = []
        while !Task.isCancelled {
            try? await Task.sleep(for: services.configuration.tenantSweepInterval)
            guard !services.driver.isReadOnly, let pending = try? await sweeper.pending() else { continue }
            for tenant in pending {
                let slot = Slotting.slot(forTenant: tenant, slotCount: services.configuration.slotCount)
                guard services.leases.lease(forSlot: slot) != nil else { closed.remove(tenant); continue }
                guard closed.contains(tenant) else {
                    // Forget the cached tokens first, so a closed agent's reconnect is refused.
                    services.auth.invalidate(tenant)
                    await services.driver.tenantDeleted(tenant)
                    services.sessions.closeAll(reason: "tenant deleted", tenants: [tenant])
                    closed.insert(tenant)
                    continue
                }
                do {
                    let removed = try await sweeper.sweep(tenant)
                    closed.remove(tenant)
                    services.auth.invalidate(tenant)
                    try? await services.tenantAdmin.audit("tenant_deleted", tenant: tenant, detail: "\(removed) keys removed", nowMs: services.nowMs())
                    logger.notice("tenant deleted", metadata: ["tenant": "\(tenant)", "keysRemoved": "\(removed)"])
                } catch {
                    logger.warning("tenant deletion interrupted; retried next round", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
                }
            }
        }
    }

    /// One ping round per heartbeat interval for every session, sent in chunks of at most
    /// `pingChunk` spread over the interval: a handful of timers and driver events per round
    /// instead of one per agent, and no burst of 10,000 pongs at once (both made pings the
    /// shard's main cost with 10,000 agents). An agent that has not answered the previous
    /// round's ping by the next one counts a failed probe.
    private func pingLoop() async {
        var nonce = 0
        while !Task.isCancelled {
            let keys = services.sessions.keys
            nonce += 1
            let chunks = max(1, (keys.count + Self.pingChunk - 1) / Self.pingChunk)
            let pause = services.heartbeatInterval / chunks
            for chunk in 0..<chunks {
                let slice = Array(keys[(chunk * keys.count / chunks)..<((chunk + 1) * keys.count / chunks)])
                if !slice.isEmpty {
                    services.driver.pingsSent(to: slice, nonce: nonce)
                    for key in slice { services.sessions.send(.ping(.init(nonce: nonce)), to: key) }
                }
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Sessions pinged together in one step of a round.
    static let pingChunk = 250

    /// Registers the cluster's slot count once, then heartbeats this shard's membership.
    private func membershipLoop() async {
        let configuration = services.configuration
        var member = Membership.Member(
            id: services.shardID, api: configuration.advertisedAPI,
            agent: configuration.advertisedAgent, startedMs: WallClock.nowMs(), version: configuration.version)
        var registered = false
        while !Task.isCancelled {
            do {
                if !registered {
                    let slots = try await services.membership.ensureCluster(slotCount: configuration.slotCount, nowMs: WallClock.nowMs())
                    if slots != configuration.slotCount {
                        logger.critical("cluster was created with another slot count", metadata: ["cluster": "\(slots)", "shard": "\(configuration.slotCount)"])
                    }
                    registered = true
                    await restoreModeOverride()
                }
                member = described(member)
                try await services.membership.heartbeat(member, nowMs: WallClock.nowMs())
            } catch {
                logger.warning("membership heartbeat failed", metadata: ["error": "\(error)"])
            }
            await sleepUntilHeartbeatDue(publishing: member)
        }
    }

    /// The member record with the driver's mode and what its door refuses now.
    private func described(_ member: Membership.Member) -> Membership.Member {
        var member = member
        member.mode = services.driver.modeName
        let verdict = services.driver.backpressure
        member.refusing = verdict.refusing
        member.refusingForMs = verdict.retryAfterMs
        member.degradedRefusing = verdict.degradedRefusing
        member.degradedMaxClass = verdict.degradedMaxClass
        return member
    }

    /// Sleeps one heartbeat interval, but wakes early (looking every 100 ms) when the mode or
    /// the door's refusals change: routers write submissions themselves and close the door from
    /// this record, and under a flood a second of stale record is thousands of tasks accepted.
    private func sleepUntilHeartbeatDue(publishing member: Membership.Member) async {
        let due = ContinuousClock.now + services.configuration.memberHeartbeatInterval
        while !Task.isCancelled, ContinuousClock.now < due {
            try? await Task.sleep(for: min(.milliseconds(100), due - ContinuousClock.now))
            if described(member) != member { return }
        }
    }

    /// Re-applies the operator's mode override kept in Redis (`PUT /v1/admin/scheduler/mode`),
    /// so a restarted shard is in the mode it was put in.
    private func restoreModeOverride() async {
        guard let stored = try? await services.redis.send(RedisCommand("GET", ClusterKeys.modeOverride(services.shardID))).string,
              let mode = SchedulerMode(rawValue: stored)
        else { return }
        logger.notice("re-applying the operator's mode override", metadata: ["mode": "\(mode.rawValue)"])
        _ = await services.driver.setMode(mode)
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

    /// Slot ownership: the slots this shard should serve are its share of the consistent-hash
    /// map over the live members (itself included). Each round it renews what it holds, hands
    /// back slots that now belong to another member (release after telling the driver, so
    /// agents get `moved`), and acquires its slots as soon as their leases are free. After a
    /// whole TTL without a successful round it presumes everything lost.
    ///
    /// Between rounds, while some of its slots are still held by someone else (a former owner
    /// that has not handed them over yet, or a crashed one whose lease has not expired), it tries
    /// to take just those every `acquireRetry`: a slot is then unowned for at most that long after
    /// its lease frees, instead of up to a whole round.
    private func leaseLoop() async {
        let configuration = services.configuration
        let period = min(configuration.leaseTTL / 3, configuration.memberHeartbeatInterval)
        var lastSuccess = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let wanted = try await wantedSlots()
                let lost = try await services.leases.renew()
                let unwanted = services.leases.slots.filter { !wanted.contains($0) }
                if !lost.isEmpty || !unwanted.isEmpty { await services.driver.slotsLost(lost + unwanted) }
                if !unwanted.isEmpty {
                    try await services.leases.release(unwanted)
                    logger.notice("handed slots over", metadata: ["slots": "\(unwanted.count)"])
                }
                var missing = wanted.filter { services.leases.lease(forSlot: $0) == nil }.sorted()
                let nextRound = ContinuousClock.now + period
                lastSuccess = .now
                while !missing.isEmpty, !Task.isCancelled {
                    let acquired = try await services.leases.acquire(missing)
                    if !acquired.isEmpty { await services.driver.slotsAcquired(acquired.keys.sorted()) }
                    missing.removeAll { acquired[$0] != nil }
                    guard !missing.isEmpty, ContinuousClock.now + Self.acquireRetry < nextRound else { break }
                    try? await Task.sleep(for: Self.acquireRetry)
                }
                try? await Task.sleep(until: nextRound)
                continue
            } catch {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
                services.driver.redisFailed(error)
                if ContinuousClock.now - lastSuccess > configuration.leaseTTL {
                    let dropped = services.leases.slots
                    services.leases.dropAll()
                    if !dropped.isEmpty { await services.driver.slotsLost(dropped) }
                }
            }
            try? await Task.sleep(for: period)
        }
    }

    /// How often slots this shard should own but cannot yet are tried again between rounds.
    static let acquireRetry: Duration = .milliseconds(100)

    /// This shard's share of the slot map over the live members.
    private func wantedSlots() async throws -> Set<Int> {
        let nowMs = WallClock.nowMs()
        let live = try await services.membership.members().filter { services.membership.isLive($0, nowMs: nowMs) }.map(\.id)
        let map = SlotMap(members: Set(live + [services.shardID]), slotCount: services.configuration.slotCount)
        return Set(map.slots(ownedBy: services.shardID))
    }
}
