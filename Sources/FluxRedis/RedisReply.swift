/// One decoded RESP2 reply, copied out of hiredis so it owns its memory and can cross tasks.
/// Bulk strings stay bytes (`[UInt8]`) because Redis values are binary; `string` decodes UTF-8
/// on demand.
public enum RedisReply: Sendable, Hashable {
    /// A nil bulk string or nil array (`GET` of a missing key, `XREADGROUP BLOCK` timing out).
    case null
    /// An integer reply (`INCR`, `DEL`, `EXISTS`, …).
    case integer(Int64)
    /// A status reply (`+OK`, `+PONG`).
    case simpleString(String)
    /// A bulk string, binary-safe.
    case bulk([UInt8])
    /// A multi-bulk reply; elements may themselves be arrays.
    case array([RedisReply])
    /// An error reply. `send` throws these as `RedisError` code `server`; `pipeline` returns them.
    case error(String)
}

extension RedisReply {
    /// The reply as text: simple strings, bulk strings (decoded as UTF-8, lossy), integers
    /// (decimal) and error text; nil for null and arrays.
    public var string: String? {
        switch self {
        case .simpleString(let text), .error(let text): text
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        case .null, .array: nil
        }
    }

    /// The reply as an integer: integer replies, and bulk/simple strings holding a decimal
    /// (Redis returns `ZSCORE`, `HGET` counters and the like as bulk strings).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        case .simpleString(let text): Int64(text)
        case .null, .array, .error: nil
        }
    }

    /// The elements of an array reply; nil for anything else (including `.null`).
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The raw bytes of a bulk or simple string; nil for anything else.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        case .null, .integer, .array, .error: nil
        }
    }

    /// True for `.null`, the RESP2 nil bulk string and nil array.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The reply as a floating-point number (`ZSCORE`, `INCRBYFLOAT`); nil if not numeric.
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .bulk, .simpleString: string.flatMap { Double($0) }
        case .null, .array, .error: nil
        }
    }
}
