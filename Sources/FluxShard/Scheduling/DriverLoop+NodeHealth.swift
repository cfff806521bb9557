import FluxCore
import FluxRedis
import FluxRuntime

extension DriverLoop {
    /// Writes the health of nodes that changed to `ff:{sN}:t:<tenant>:node:<node>` (a readable
    /// hash) and lists them in `ff:{sN}:t:<tenant>:nodes`: at most once per
    /// `nodeHealthWriteInterval`, at once when a node entered or left quarantine. A node is
    /// written only when what an operator would act on changed — connected, quarantined, or the
    /// score by 0.02 or more — or `nodeHealthRefreshMs` passed: with 10,000 agents answering
    /// pings, writing every touched node every second was most of the shard's Redis traffic.
    ///
    /// Informational: an operator (or a new owner of the slot) can read what this shard saw. The
    /// core has no event to restore health, so a new owner starts nodes fresh and relearns
    /// within a few jobs (docs/runbook.md). Not fenced: a stale owner can at worst leave one
    /// outdated health hash, never touch a task.
    mutating func writeNodeHealth(nowMs: Int64) async {
        guard !dirtyNodes.isEmpty else { return }
        let interval = driver.configuration.nodeHealthWriteInterval.milliseconds
        guard nodeHealthUrgent || nowMs - lastNodeHealthWriteMs >= interval else { return }
        let nodes = dirtyNodes
        dirtyNodes = []
        nodeHealthUrgent = false
        lastNodeHealthWriteMs = nowMs
        var commands: [RedisCommand] = []
        for node in nodes.sorted(by: { $0.description < $1.description }) { commands += healthCommands(node, nowMs: nowMs) }
        guard !commands.isEmpty else { return }
        let started = ContinuousClock.now
        do {
            _ = try await driver.redis.pipeline(commands)
            driver.metrics.redisLatency(ContinuousClock.now - started, operation: "node_health")
        } catch {
            dirtyNodes.formUnion(nodes)
            for node in nodes { nodeHealthWritten[node] = nil }
            driver.redisFailed(error)
        }
    }

    /// Unchanged nodes are written again after this long (their `running` and `updated_ms`).
    static let nodeHealthRefreshMs: Int64 = 30_000

    private mutating func healthCommands(_ key: NodeKey, nowMs: Int64) -> [RedisCommand] {
        guard let (tenant, node) = Self.ids(key),
              let snapshot = scheduler.nodeSnapshot(tenant: tenant, node: node, now: Timestamp(milliseconds: nowMs))
        else { return [] }
        let slot = Slotting.slot(forTenant: key.tenant, slotCount: driver.configuration.slotCount)
        guard driver.leases.lease(forSlot: slot) != nil else { return [] }
        let keys = SlotKeys(slot: slot)
        let health = snapshot.health
        let fingerprint = "\(snapshot.isConnected) \(snapshot.isQuarantined) \(Int((health.value * 50).rounded()))"
        let previous = nodeHealthWritten[key]
        if let previous, previous.fingerprint == fingerprint, nowMs - previous.atMs < Self.nodeHealthRefreshMs { return [] }
        nodeHealthWritten[key] = (fingerprint, nowMs)
        var hset = RedisCommand("HSET", keys.node(key.tenant, key.node))
        let distrust = scheduler.configuration.health.consecutiveFailuresToDistrustReport
        for (field, value) in [
            ("tenant", key.tenant), ("node", key.node), ("zone", Self.name(snapshot.zone)), ("rack", Self.name(snapshot.rack)),
            ("capacity", String(snapshot.capacity)), ("running", String(snapshot.inFlight)),
            ("connected", snapshot.isConnected ? "1" : "0"), ("quarantined", snapshot.isQuarantined ? "1" : "0"),
            ("score", Self.decimal(health.value)), ("agent_report", Self.decimal(health.agentReport)),
            ("observed_failure_rate", Self.decimal(health.failureRate)), ("external_probe", Self.decimal(health.probe)),
            ("consecutive_failures", String(snapshot.consecutiveFailures)),
            ("self_report_ignored", snapshot.consecutiveFailures >= distrust ? "1" : "0"),
            ("updated_ms", String(nowMs)), ("shard", driver.configuration.shardID),
        ] {
            hset.append(field)
            hset.append(value)
        }
        // Records of nodes gone for longer than the TTL expire (an agent token holder could invent
        // any number of node names); a node that stays is rewritten at least every 30 s.
        let ttl = String(driver.configuration.nodeRecordTTL.milliseconds)
        let expire = RedisCommand("PEXPIRE", keys.node(key.tenant, key.node), ttl)
        guard previous == nil else { return [hset, expire] }
        return [hset, expire, RedisCommand("SADD", keys.tenantNodes(key.tenant), key.node), RedisCommand("PEXPIRE", keys.tenantNodes(key.tenant), ttl)]
    }

    /// Four decimals: readable in redis-cli, exact enough for a score.
    static func decimal(_ value: Double) -> String {
        String((value * 10_000).rounded() / 10_000)
    }
}
