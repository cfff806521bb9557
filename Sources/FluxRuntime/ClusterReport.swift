public import FluxAPI
import FluxCore
public import FluxRedis

/// Builds the cluster view from Redis alone (membership and slot leases), so the admin API,
/// `fluxforge ctl cluster` and, later, the router all describe the cluster the same way.
public enum ClusterReport {
    public static func build(redis: any RedisBackend, membership: Membership, slotCount: Int, nowMs: Int64) async throws -> ClusterView {
        let members = try await membership.members()
        let slots = try await SlotInspector(redis: redis, slotCount: slotCount).inspect()
        let leases: [ClusterView.Lease] = slots.compactMap { slot in
            guard let (holder, epoch) = slot.lease.flatMap(SlotLeases.parse) else { return nil }
            return ClusterView.Lease(slot: slot.slot, holder: holder, epoch: epoch, ttlMs: slot.leaseTTLMs ?? 0)
        }
        var held: [String: Int] = [:]
        for lease in leases { held[lease.holder, default: 0] += 1 }
        let views = members.map { member in
            ClusterView.Member(
                id: member.id, api: member.api, agent: member.agent, version: member.version, startedAtMs: member.startedMs,
                heartbeatAgeMs: max(0, nowMs - member.heartbeatMs), live: membership.isLive(member, nowMs: nowMs),
                slotsHeld: held[member.id] ?? 0)
        }
        let owned = Set(leases.map(\.slot))
        let map = SlotMap(members: views.filter(\.live).map(\.id), slotCount: slotCount)
        return ClusterView(
            slotCount: slotCount, members: views, leases: leases, unownedSlots: (0..<slotCount).filter { !owned.contains($0) },
            movingSlots: leases.filter { map.owner(ofSlot: $0.slot) != $0.holder }.map(\.slot))
    }
}
