/// The result of `XAUTOCLAIM`: where to continue scanning, what was claimed, and IDs that were
/// pending but no longer exist in the stream (removed from the PEL by Redis).
public struct RedisAutoclaimResult: Sendable, Hashable {
    /// Cursor for the next `XAUTOCLAIM` (`0-0` when the scan is complete).
    public var next: String
    /// Entries now owned by the claiming consumer.
    public var entries: [RedisStreamEntry]
    /// Pending IDs whose entries had been deleted.
    public var deletedIDs: [String]
}
