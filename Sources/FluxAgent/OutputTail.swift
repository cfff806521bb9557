/// The last `limit` bytes of a stream, however much was written: a task that prints gigabytes
/// costs the agent `limit` bytes of memory, never more.
public struct OutputTail: Sendable {
    /// Most bytes ever kept.
    public let limit: Int
    private var bytes: [UInt8] = []
    /// Everything ever appended, kept or not; lets a reader tell that the head was dropped.
    public private(set) var totalBytes: Int = 0

    /// An empty tail keeping at most `limit` bytes.
    public init(limit: Int) {
        precondition(limit >= 0, "tail limit must not be negative")
        self.limit = limit
        bytes.reserveCapacity(limit)
    }

    /// Appends a chunk, keeping only the newest `limit` bytes.
    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        totalBytes += chunk.count
        guard limit > 0 else { return }
        if chunk.count >= limit {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: chunk[(chunk.count - limit)...])
            return
        }
        let overflow = bytes.count + chunk.count - limit
        if overflow > 0 { bytes.removeFirst(overflow) }
        bytes.append(contentsOf: chunk)
    }

    /// Appends text (the agent's own notes, such as a timeout marker) under the same bound.
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// The kept bytes as UTF-8 text. A multi-byte character cut by the bound at the front is
    /// dropped rather than shown as a replacement character; invalid UTF-8 elsewhere is replaced.
    public var text: String {
        let start = bytes.prefix(4).firstIndex { $0 & 0xC0 != 0x80 } ?? 0
        return String(decoding: bytes[start...], as: UTF8.self)
    }

    /// Number of bytes currently kept (at most `limit`).
    public var count: Int { bytes.count }
}
