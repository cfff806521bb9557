/// `X-Flux-Idempotency-Key`: 1…128 printable ASCII characters without spaces.
public enum IdempotencyKeyRules {
    public static func isValid(_ key: some StringProtocol) -> Bool {
        let bytes = key.utf8
        return !bytes.isEmpty && bytes.count <= TaskLimits.maxIdempotencyKeyBytes && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
