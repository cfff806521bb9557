import FluxRedis
import FluxRuntime
import Logging
import Synchronization

/// The router's current `OwnerTable`, re-read from Redis every `refreshInterval` and at once
/// when a shard answers `421` or cannot be reached.
///
/// Reads are lock-protected copies, so request handlers never wait on Redis to route. Forced
/// refreshes are coalesced: a burst of misdirected calls during a handoff causes one read of
/// Redis, not one per call.
final class OwnerDirectory: Sendable {
    private struct State {
        var table: OwnerTable
        var readAt: ContinuousClock.Instant?
        var inFlight: Task<OwnerTable, Never>?
    }

    private let redis: any RedisBackend
    private let membership: Membership
    private let configuration: RouterConfiguration
    private let logger: Logger
    private let state: Mutex<State>

    init(redis: any RedisBackend, configuration: RouterConfiguration, logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.membership = Membership(redis: redis, memberTTLMs: configuration.memberTTL.milliseconds)
        self.logger = logger
        self.state = Mutex(State(table: OwnerTable(slotCount: configuration.slotCount)))
    }

    /// The table as last read.
    var table: OwnerTable { state.withLock { $0.table } }

    /// Re-reads Redis unless a read finished less than `minimumAge` ago; concurrent callers share
    /// one read. On a Redis failure the previous table stays (and is returned).
    @discardableResult
    func refresh(ifOlderThan minimumAge: Duration = .milliseconds(50)) async -> OwnerTable {
        let clock = ContinuousClock()
        let task: Task<OwnerTable, Never> = state.withLock { state in
            if let running = state.inFlight { return running }
            if let readAt = state.readAt, clock.now - readAt < minimumAge {
                let table = state.table
                return Task { table }
            }
            let running = Task { await self.read() }
            state.inFlight = running
            return running
        }
        return await task.value
    }

    /// Refreshes every `refreshInterval` until cancelled.
    func run() async {
        while !Task.isCancelled {
            await refresh(ifOlderThan: configuration.refreshInterval / 2)
            try? await Task.sleep(for: configuration.refreshInterval)
        }
    }

    private func read() async -> OwnerTable {
        let slotCount = configuration.slotCount
        let table: OwnerTable?
        do {
            let leases = try await SlotLeases.readAll(redis: redis, slotCount: slotCount)
            let members = try await membership.members().map {
                (shard: OwnerTable.Shard(
                    id: $0.id, api: $0.api, agent: $0.agent, readOnly: $0.mode == "READ_ONLY", refusing: Set($0.refusing),
                    refusingForMs: $0.refusingForMs, degradedRefusing: Set($0.degradedRefusing), degradedMaxClass: $0.degradedMaxClass),
                 heartbeatMs: $0.heartbeatMs)
            }
            table = OwnerTable(
                slotCount: slotCount, leases: leases, members: members, nowMs: WallClock.nowMs(),
                memberTTLMs: configuration.memberTTL.milliseconds)
        } catch {
            logger.warning("owner table refresh failed; routing on the previous one", metadata: ["error": "\(error)"])
            table = nil
        }
        return state.withLock { state in
            if let table {
                if table.ownedSlotCount != state.table.ownedSlotCount || table.liveShards != state.table.liveShards {
                    logger.info("owner table changed", metadata: [
                        "ownedSlots": "\(table.ownedSlotCount)", "shards": "\(table.liveShards.map(\.id).joined(separator: ","))"])
                }
                state.table = table
                state.readAt = ContinuousClock.now
            }
            state.inFlight = nil
            return state.table
        }
    }
}
