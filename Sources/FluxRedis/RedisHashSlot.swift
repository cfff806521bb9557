/// Redis Cluster's key → hash slot function, so the cluster client can send a command straight
/// to the master that owns its key instead of paying a `MOVED` round trip: CRC16-XMODEM of the
/// key (or of its `{hash tag}`) modulo 16384, exactly as the server's `keyHashSlot` computes it.
///
/// Hash tag rule (Redis's own): find the first `{`; then the first `}` after it; if at least one
/// byte lies between them, only those bytes are hashed. Otherwise the whole key is hashed. So
/// `{user1000}.following` and `{user1000}.followers` share a slot, `foo{}{bar}` hashes the whole
/// key, and `foo{{bar}}zap` hashes `{bar`.
public enum RedisHashSlot {
    /// Number of hash slots in a Redis Cluster.
    public static let count = 16_384

    /// The slot (0 ..< 16384) of a key given as bytes.
    public static func slot(forKey key: some Collection<UInt8>) -> Int {
        Int(crc16(hashedPart(of: Array(key))) & UInt16(count - 1))
    }

    /// The slot (0 ..< 16384) of a key given as text (its UTF-8 bytes).
    public static func slot(forKey key: String) -> Int {
        slot(forKey: Array(key.utf8))
    }

    /// The bytes that decide the slot: the hash tag if the key has a non-empty one, else the key.
    static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection), the CRC Redis uses.
    /// `crc16("123456789") == 0x31C3`.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
