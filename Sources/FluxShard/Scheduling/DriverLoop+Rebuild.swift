import FluxAPI
import FluxCore
import FluxRedis
import FluxRuntime

extension DriverLoop {
    /// Loads the slots in `slotsToRebuild` from Redis into the core: tenants, then every task in
    /// `ready`, `delayed` and `inflight` at its recorded position. Redis is the truth; whatever
    /// the core held for those slots before is forgotten first.
    mutating func rebuildPendingSlots(nowMs: Int64) async {
        let slots = slotsToRebuild.filter { driver.leases.lease(forSlot: $0) != nil }.sorted()
        slotsToRebuild = []
        guard !slots.isEmpty else { return }
        forget(slots: Set(slots), nowMs: nowMs, closeSessions: false)
        var restored = 0
        do {
            for slot in slots {
                let claimed = try await IngestClaim.claimAll(redis: driver.redis, slot: slot, consumer: driver.configuration.shardID)
                if claimed > 0 { logger.notice("claimed a former owner's pending ingest entries", metadata: ["slot": "\(slot)", "entries": "\(claimed)"]) }
                try await loadTenants(slot: slot, nowMs: nowMs)
                restored += try await loadTasks(slot: slot, nowMs: nowMs)
            }
        } catch {
            logger.error("rebuild from Redis failed", metadata: ["error": "\(error)"])
            driver.redisFailed(error)
            slotsToRebuild.formUnion(slots)
            return
        }
        reconnectKnownNodes(inSlots: Set(slots), nowMs: nowMs)
        driver.activate(slots)
        logger.info("rebuilt from Redis", metadata: ["slots": "\(slots.count)", "tasks": "\(restored)"])
    }

    private mutating func loadTenants(slot: Int, nowMs: Int64) async throws {
        let store = TenantStore(redis: driver.redis, slotCount: driver.configuration.slotCount)
        for tenant in try await store.tenants(inSlot: slot) {
            guard let id = try? TenantID(tenant.name) else { continue }
            tenantsBySlot[slot, default: []].insert(tenant.name)
            apply(scheduler.handle(.tenantConfigured(id, Self.configuration(tenant.settings)), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
        }
    }

    /// Restores one slot's tasks; returns how many.
    private mutating func loadTasks(slot: Int, nowMs: Int64) async throws -> Int {
        let keys = SlotKeys(slot: slot)
        var count = 0
        for (set, key) in [("ready", keys.ready), ("delayed", keys.delayed), ("inflight", keys.inflight)] {
            let members = try await driver.redis.send(RedisCommand("ZRANGE", key, "0", "-1", "WITHSCORES")).array ?? []
            let entries: [(id: String, score: Double)] = stride(from: 0, to: members.count - 1, by: 2).compactMap { index in
                guard let id = members[index].string, let score = members[index + 1].string.flatMap(Double.init) else { return nil }
                return (id, score)
            }
            for start in stride(from: 0, to: entries.count, by: 1_000) {
                let chunk = entries[start..<min(start + 1_000, entries.count)]
                let replies = try await driver.redis.pipeline(chunk.map { IngestedTask.fetchCommand(slot: slot, taskID: $0.id) })
                for (entry, reply) in zip(chunk, replies) {
                    let fields = IngestedTask.fields(from: reply)
                    count += restore(id: entry.id, fields: fields, set: set, score: entry.score, nowMs: nowMs) ? 1 : 0
                }
            }
        }
        return count
    }

    /// Feeds one recorded task to the core at the position its record and set say.
    private mutating func restore(id: String, fields: [String: String], set: String, score: Double, nowMs: Int64) -> Bool {
        guard let spec = Self.spec(id: id, fields: fields), let state = fields["state"] else { return false }
        let now = Timestamp(milliseconds: nowMs)
        let attempts = fields["attempt"].flatMap(Int.init) ?? 0
        let scoreTime = Timestamp(milliseconds: score.isFinite ? Int64(score) : nowMs)
        let position: RestoredTask
        switch (set, state) {
        case ("ready", "ADMITTED"):
            position = .waiting(enqueuedAt: Timestamp(milliseconds: ReadyScore.split(Int64(score)).enqueuedAtMs), attempts: attempts)
        case ("delayed", "RETRY_WAIT"):
            position = .retryWaiting(dueAt: scoreTime, attempts: attempts)
        case ("delayed", "DEFERRED"):
            position = .deferred(retryAt: scoreTime)
        case ("delayed", "SUSPENDED"):
            position = .suspended(attempts: attempts)
        case ("delayed", "QUEUED"):
            apply(scheduler.handle(.taskSubmitted(spec), now: now), nowMs: nowMs)
            return true
        case ("inflight", "DISPATCHED"), ("inflight", "RUNNING"):
            guard let node = fields["assigned_node"].flatMap({ try? NodeID($0) }) else { return false }
            position = .inFlight(node: node, attempt: attempts, timeoutAt: scoreTime, running: state == "RUNNING")
        default:
            logger.warning("task in an unexpected set; left alone", metadata: ["task": "\(id)", "set": "\(set)", "state": "\(state)"])
            return false
        }
        apply(scheduler.handle(.taskRestored(spec, position), now: now), nowMs: nowMs)
        return true
    }
}

extension DriverLoop {
    /// Drops everything the core holds for `slots` (their tenants and tasks). With
    /// `closeSessions`, the slots' agents are told `moved` so they reconnect to the new owner.
    mutating func forget(slots: Set<Int>, nowMs: Int64, closeSessions: Bool = true) {
        driver.deactivate(slots)
        var tenants: Set<String> = []
        for slot in slots { tenants.formUnion(tenantsBySlot.removeValue(forKey: slot) ?? []) }
        for tenant in tenants {
            guard let id = try? TenantID(tenant) else { continue }
            apply(scheduler.handle(.tenantRemoved(id), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
        }
        ingestEntries = ingestEntries.filter { !slots.contains($0.value.slot) }
        // Dropped entries stay pending at this consumer: a slot rebuilt here must have them
        // read again (a lost slot's new owner claims them).
        if intake.drop(slots: slots) { driver.requestReread() }
        if closeSessions, !tenants.isEmpty {
            driver.sessions.closeAll(reason: "slot moved", tenants: tenants)
            hellos = hellos.filter { !tenants.contains($0.key.tenant) }
        }
    }

    /// Re-announces connected agents of the rebuilt slots to the core.
    mutating func reconnectKnownNodes(inSlots slots: Set<Int>, nowMs: Int64) {
        let slotCount = driver.configuration.slotCount
        for hello in hellos.values where slots.contains(Slotting.slot(forTenant: hello.tenant, slotCount: slotCount)) {
            guard let (tenant, node) = Self.ids(NodeKey(tenant: hello.tenant, node: hello.node)) else { continue }
            let descriptor = NodeDescriptor(id: node, tenant: tenant, zone: hello.zone, rack: hello.rack, labels: hello.labels, capacity: hello.capacity)
            apply(scheduler.handle(.nodeConnected(descriptor), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
        }
    }

    /// Checks whether Redis answers again; if so, starts over from Redis: a fresh core, every
    /// held slot rebuilt, and every agent asked to reconnect so it resends unacknowledged
    /// results that arrived while nothing could be written.
    mutating func recoverFromRedisOutage() async -> Bool {
        do {
            _ = try await driver.redis.send(RedisCommand("PING"))
        } catch {
            return false
        }
        driver.publish(redisDown: false)
        logger.notice("Redis reachable again: rebuilding the scheduler from Redis")
        scheduler = Scheduler(configuration: driver.configuration.scheduler)
        publishedMode = nil
        if let modeOverride { _ = scheduler.handle(.modeOverride(modeOverride), now: Timestamp(milliseconds: WallClock.nowMs())) }
        tenantsBySlot = [:]
        ingestEntries = [:]
        dropIntake()
        pings = [:]
        hellos = [:]
        driver.deactivate(driver.activeSlots)
        slotsToRebuild = Set(driver.leases.slots)
        driver.sessions.closeAll(reason: "shard recovered from a Redis outage")
        return true
    }
}
