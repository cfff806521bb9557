/// One stream entry as returned by `XREADGROUP`/`XAUTOCLAIM`: which stream, its ID, and its
/// fields in the order they were added (values stay bytes; Redis values are binary).
public struct RedisStreamEntry: Sendable, Hashable {
    /// One field of an entry.
    public struct Field: Sendable, Hashable {
        /// Field name.
        public var name: String
        /// Field value, binary-safe.
        public var value: [UInt8]

        /// A field, e.g. for tests or for building expected entries.
        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    /// The stream key the entry was read from.
    public var stream: String
    /// The entry ID, e.g. `1700000000000-0`.
    public var id: String
    /// Fields in insertion order; empty if the entry was deleted while pending.
    public var fields: [Field]

    /// An entry, e.g. for tests or fakes of a stream reader.
    public init(stream: String, id: String, fields: [Field]) {
        self.stream = stream
        self.id = id
        self.fields = fields
    }

    /// The first value stored under `name`, as bytes.
    public subscript(name: String) -> [UInt8]? {
        fields.first { $0.name == name }?.value
    }

    /// The first value stored under `name`, decoded as UTF-8.
    public func string(_ name: String) -> String? {
        self[name].map { String(decoding: $0, as: UTF8.self) }
    }
}
