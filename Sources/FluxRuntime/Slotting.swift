import FluxCore

/// Tenant → slot for the runtime, on the core's documented hash (FNV-1a 64 mod slot count), so
/// the shard, the router and `fluxforge ctl` agree with the scheduler and the simulator.
public enum Slotting {
    /// The slot of a tenant name that has already passed `NameRules` validation.
    public static func slot(forTenant tenant: String, slotCount: Int) -> Int {
        Int(FNV1a.hash64(tenant) % UInt64(slotCount))
    }
}
