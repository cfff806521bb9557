public import FluxRedis
import Synchronization

/// The slot leases this shard holds, with their fencing epochs (docs/architecture.md).
///
/// A shard serves slot N only while `ff:{sN}:lease` holds `<shardId>:<epoch>`; every fenced
/// script compares against `value(forSlot:)`. Leases are renewed well before expiry (every
/// third of the TTL); a lease that fails to renew is dropped here at once, so the shard stops
/// writing for that slot before anyone else can own it.
public final class SlotLeases: Sendable {
    /// One held lease.
    public struct Lease: Sendable, Hashable {
        public var epoch: Int64
        public var value: String
    }

    public let shardID: String
    public let ttlMs: Int64
    private let redis: any RedisBackend
    private let held = Mutex<[Int: Lease]>([:])

    static let acquireScript = RedisScript(LeaseScripts.acquire)
    static let renewScript = RedisScript(LeaseScripts.renew)
    static let releaseScript = RedisScript(LeaseScripts.release)

    public init(shardID: String, ttlMs: Int64, redis: any RedisBackend) {
        self.shardID = shardID
        self.ttlMs = ttlMs
        self.redis = redis
    }

    /// The lease held for `slot`, if any.
    public func lease(forSlot slot: Int) -> Lease? { held.withLock { $0[slot] } }

    /// Slots currently held, ascending.
    public var slots: [Int] { held.withLock { $0.keys.sorted() } }

    /// Tries to take every slot in `slots`; returns the ones newly acquired with their epochs.
    @discardableResult
    public func acquire(_ slots: [Int]) async throws -> [Int: Int64] {
        let calls = slots.map { ScriptCall(keys: [SlotKeys(slot: $0).lease, SlotKeys(slot: $0).epoch], arguments: [shardID, String(ttlMs)]) }
        let replies = try await redis.evaluateMany(Self.acquireScript, calls)
        var acquired: [Int: Int64] = [:]
        for (slot, reply) in zip(slots, replies) {
            guard let parts = reply.array?.compactMap(\.string), parts.count == 2, parts[0] == "acquired",
                  let epoch = Int64(parts[1]) else { continue }
            acquired[slot] = epoch
        }
        held.withLock { leases in
            for (slot, epoch) in acquired { leases[slot] = Lease(epoch: epoch, value: "\(shardID):\(epoch)") }
        }
        return acquired
    }

    /// Renews every held lease; returns the slots lost (no longer ours), which are dropped.
    public func renew() async throws -> [Int] {
        let current = held.withLock { $0 }.sorted { $0.key < $1.key }
        let calls = current.map { ScriptCall(keys: [SlotKeys(slot: $0.key).lease], arguments: [$0.value.value, String(ttlMs)]) }
        let replies = try await redis.evaluateMany(Self.renewScript, calls)
        let lost = zip(current, replies).filter { $1.int != 1 }.map { $0.0.key }
        drop(lost)
        return lost
    }

    /// Releases the given slots (only where the lease is still ours) and forgets them.
    public func release(_ slots: [Int]) async throws {
        let leases = held.withLock { held in slots.compactMap { slot in held[slot].map { (slot, $0) } } }
        drop(slots)
        _ = try await redis.evaluateMany(Self.releaseScript, leases.map { ScriptCall(keys: [SlotKeys(slot: $0.0).lease], arguments: [$0.1.value]) })
    }

    /// Forgets leases locally (after a failed renewal the lease must be presumed lost).
    public func drop(_ slots: [Int]) {
        held.withLock { leases in for slot in slots { leases[slot] = nil } }
    }

    /// Forgets every lease (Redis unreachable for longer than the TTL).
    public func dropAll() { held.withLock { $0.removeAll() } }

    /// Splits a lease value `<shardId>:<epoch>` at its last colon; nil when it is not one.
    public static func parse(_ value: some StringProtocol) -> (holder: String, epoch: Int64)? {
        guard let colon = value.lastIndex(of: ":"), let epoch = Int64(value[value.index(after: colon)...]) else { return nil }
        return (String(value[..<colon]), epoch)
    }

    /// Every slot's lease value, read in one pipeline (slots without a lease are absent): what
    /// the router routes by and `bench handoff` watches.
    public static func readAll(redis: any RedisBackend, slotCount: Int) async throws -> [Int: String] {
        let replies = try await redis.pipeline((0..<slotCount).map { RedisCommand("GET", SlotKeys(slot: $0).lease) })
        var values: [Int: String] = [:]
        for (slot, reply) in replies.enumerated() { if let value = reply.string { values[slot] = value } }
        return values
    }
}
