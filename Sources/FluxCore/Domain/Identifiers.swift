/// Validation shared by every name that travels in URLs, Redis keys and certificates.
///
/// Tenant and node names are `[a-z0-9-]{1,63}`: safe in a URL path segment, in a Redis key
/// without quoting, and in a DNS label. The HTTP layer calls `isValidName` before building ids.
public enum NameValidator {
    /// True if `raw` matches `[a-z0-9-]{1,63}`.
    public static func isValidName(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
        }
    }

    /// True if `raw` is 1...32 bytes of printable ASCII without spaces (0x21...0x7E).
    public static func isValidTaskID(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard !bytes.isEmpty, bytes.count <= TaskID.maximumLength else { return false }
        return bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}

/// A tenant name, validated as `[a-z0-9-]{1,63}`.
public struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The validated name.
    public let rawValue: String

    /// Validates `rawValue`; throws `FluxCoreError.invalidTenantName` otherwise.
    public init(_ rawValue: String) throws(FluxCoreError) {
        guard NameValidator.isValidName(rawValue) else { throw .invalidTenantName(rawValue) }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A node (agent) name, validated as `[a-z0-9-]{1,63}`; unique within its tenant.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The validated name.
    public let rawValue: String

    /// Validates `rawValue`; throws `FluxCoreError.invalidNodeName` otherwise.
    public init(_ rawValue: String) throws(FluxCoreError) {
        guard NameValidator.isValidName(rawValue) else { throw .invalidNodeName(rawValue) }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A task id assigned by the caller (the shard): 1...32 printable ASCII bytes, unique within one
/// scheduler. Ids of 15 bytes or fewer are stored inline by `String`, which keeps the core's
/// per-task memory low; longer ids work but cost one heap allocation each.
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Longest accepted id in bytes.
    public static let maximumLength = 32

    /// The validated id.
    public let rawValue: String

    /// Validates `rawValue`; throws `FluxCoreError.invalidTaskID` otherwise.
    public init(_ rawValue: String) throws(FluxCoreError) {
        guard NameValidator.isValidTaskID(rawValue) else { throw .invalidTaskID(rawValue) }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.rawValue < rhs.rawValue }
}
