/// The one rule for tenant, node and resource names: `[a-z0-9-]{1,63}`.
///
/// Names appear in Redis keys, URLs and log lines; keeping them to a DNS-label-like charset means
/// none of those needs escaping and no name can smuggle a key separator (`:`) or a hash tag (`{`).
public enum NameRules {
    public static let maxLength = 63

    /// True when `name` is 1…63 characters of lowercase ASCII letters, digits and `-`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    /// Validates `name` for the given field, naming the field in the error.
    public static func validate(_ name: String, field: String) throws(APIProblem) {
        guard isValidName(name) else {
            throw .invalid(field, "must match [a-z0-9-]{1,63}")
        }
    }

    /// Label keys and values: `[A-Za-z0-9._-]{1,63}`, a little wider than names because labels
    /// describe hardware (`arch=x86_64`, `os=debian-12`).
    public static func isValidLabel(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F
        }
    }
}
