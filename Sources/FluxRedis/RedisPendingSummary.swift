/// The summary form of `XPENDING key group`.
public struct RedisPendingSummary: Sendable, Hashable {
    /// Number of entries delivered but not acknowledged.
    public var count: Int64
    /// Smallest and largest pending IDs; nil when nothing is pending.
    public var smallestID: String?
    /// See `smallestID`.
    public var largestID: String?
    /// Pending count per consumer.
    public var consumers: [String: Int64]
}
