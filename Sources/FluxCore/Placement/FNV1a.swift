/// FNV-1a, 64-bit: the stable hash of the placement ring (docs/architecture.md).
///
/// Chosen because it is tiny, byte-oriented, identical in every language, and — unlike Swift's
/// `Hasher` — not seeded per process: every router and shard computes the same value.
/// Offset basis `0xcbf29ce484222325`, prime `0x100000001b3`, over the UTF-8 bytes.
/// Test vectors: `""` → `0xcbf29ce484222325`, `"a"` → `0xaf63dc4c8601ec8c`,
/// `"foobar"` → `0x85944171f73967e8`.
public enum FNV1a {
    /// The FNV-1a 64-bit offset basis.
    public static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    /// The FNV-1a 64-bit prime.
    public static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// FNV-1a 64 of the UTF-8 bytes of `string`.
    public static func hash64(_ string: String) -> UInt64 {
        hash64(bytes: string.utf8)
    }

    /// FNV-1a 64 of `bytes`.
    public static func hash64(bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        return hash
    }
}

/// The tenant → slot function of docs/architecture.md.
public enum SlotHash {
    /// Default cluster slot count.
    public static let defaultSlotCount = 256

    /// `FNV1a.hash64(tenant) mod slotCount`. Precondition: `slotCount > 0`.
    public static func slot(forTenant tenant: TenantID, slotCount: Int = defaultSlotCount) -> Int {
        precondition(slotCount > 0, "slot count must be positive")
        return Int(FNV1a.hash64(tenant.rawValue) % UInt64(slotCount))
    }
}
