/// Tenant → slot for the runtime: FNV-1a 64 over the tenant's UTF-8 bytes, mod the slot count.
public enum Slotting {
    /// The slot of a tenant name that has already passed `NameRules` validation.
    public static func slot(forTenant tenant: String, slotCount: Int) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in tenant.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int(hash % UInt64(slotCount))
    }
}
