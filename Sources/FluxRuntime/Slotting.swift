import FluxCore

/// Tenant → slot for the runtime, on the core's documented hash (FNV-1a 64 over the UTF-8
/// bytes, mod the slot count), so shard, router and tools agree with the scheduler.
public enum Slotting {
    /// The slot of a tenant name that has already passed `NameRules` validation.
    public static func slot(forTenant tenant: String, slotCount: Int) -> Int {
        Int(FNV1a.hash64(tenant) % UInt64(slotCount))
    }
}
