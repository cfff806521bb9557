import Crypto

/// API and agent tokens: random, shown once, stored only as SHA-256 hex.
public enum Tokens {
    /// A new 256-bit token, hex, prefixed with its kind (`fft_` tenant API, `ffa_` agent).
    public static func generate(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = prefix
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            hex += String(word, radix: 16).leftPadded(to: 16)
        }
        return hex
    }

    /// SHA-256 of `text` as lowercase hex.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Compares two hex digests without an early exit, so timing does not reveal a prefix match.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// Task ids: 15 characters of Crockford base32 from 75 random bits, short enough to stay inline
/// in a Swift `String` and unguessable enough that ids do not leak how many tasks a tenant has.
public enum TaskIDs {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bits = generator.next() as UInt64
        var extra = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 15)
        for index in 0..<15 {
            if index == 12 { bits = extra; extra = 0 }
            bytes[index] = alphabet[Int(bits & 31)]
            bits >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of item `index` of a named batch: derived, so every try of the same batch (the
    /// router's retry, a client's retry under the same idempotency key) names the same tasks and
    /// finds the ones already written instead of making twins.
    public static func item(of batch: String, index: Int) -> String {
        let digest = SHA256.hash(data: Array("\(batch)/\(index)".utf8))
        return String(decoding: digest.prefix(15).map { alphabet[Int($0 & 31)] }, as: UTF8.self)
    }

    /// True for ids this shard could have generated (used to reject junk path parameters early).
    public static func isWellFormed(_ id: some StringProtocol) -> Bool {
        id.utf8.count == 15 && id.utf8.allSatisfy { alphabet.contains($0) }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
