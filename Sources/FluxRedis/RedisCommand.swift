/// One Redis command: a name and binary-safe arguments, stored as one contiguous byte array plus
/// argument end offsets so building a command costs two allocations however many arguments it
/// has. hiredis (`redisFormatCommandArgv`) turns it into RESP when it is sent.
///
///     RedisCommand("SET", key, value)            // String, Int, Int64, Double, [UInt8]
///     var xadd = RedisCommand("XADD", stream); xadd.append("*"); xadd.append(fields: …)
public struct RedisCommand: Sendable, Hashable {
    // Inlinable (with the storage `@usableFromInline`) so that building a command specializes
    // into the caller: unspecialized, the parameter-pack initializer dominated pipelined XADD.
    /// All argument bytes, the command name first, back to back.
    @usableFromInline var bytes: [UInt8]
    /// `ends[i]` is the offset one past the last byte of argument `i`.
    @usableFromInline var ends: [Int]
    /// How long the server may legitimately hold this command before replying (a `BLOCK`
    /// timeout). The sender adds it to its command timeout so a blocking read is not timed out.
    public var blockingDuration: Duration?

    /// A command with its name and any number of arguments of mixed `RedisArgument` types.
    @inlinable
    public init<each Argument: RedisArgument>(_ name: String, _ arguments: repeat each Argument) {
        bytes = []
        ends = []
        bytes.reserveCapacity(64)
        ends.reserveCapacity(8)
        append(name)
        repeat append(each arguments)
    }

    /// A command from a name and an array of arguments of one type (e.g. keys).
    @inlinable
    public init(_ name: String, arguments: [some RedisArgument]) {
        self.init(name)
        for argument in arguments { append(argument) }
    }

    /// Appends one argument.
    @inlinable
    public mutating func append(_ argument: some RedisArgument) {
        argument.appendAsRedisArgument(to: &self)
    }

    /// Appends raw bytes as one argument; the building block `RedisArgument` conformers use.
    @inlinable
    public mutating func appendArgument(bytes argumentBytes: some Collection<UInt8>) {
        bytes.append(contentsOf: argumentBytes)
        ends.append(bytes.count)
    }

    /// Number of arguments, counting the command name.
    public var argumentCount: Int { ends.count }

    /// Argument `index` (0 is the command name) as bytes; for logs and tests.
    public func argument(_ index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// The command name in upper case, for logs and error messages.
    public var name: String { String(decoding: argument(0), as: UTF8.self).uppercased() }
}

/// A value that can be one argument of a `RedisCommand`. Conformances ship for `String`,
/// `Substring`, `Int`, `Int64`, `Double` and `[UInt8]`; each writes the bytes Redis expects
/// (decimal text for numbers, raw bytes for `[UInt8]`).
public protocol RedisArgument: Sendable {
    /// Appends this value as exactly one argument.
    func appendAsRedisArgument(to command: inout RedisCommand)
}

extension String: RedisArgument {
    /// The UTF-8 bytes of the string.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        command.appendArgument(bytes: utf8)
    }
}

extension Substring: RedisArgument {
    /// The UTF-8 bytes of the substring.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        command.appendArgument(bytes: utf8)
    }
}

extension Int: RedisArgument {
    /// Decimal text, as Redis parses integers.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        command.appendArgument(bytes: String(self).utf8)
    }
}

extension Int64: RedisArgument {
    /// Decimal text, as Redis parses integers.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        command.appendArgument(bytes: String(self).utf8)
    }
}

extension Double: RedisArgument {
    /// Infinite scores are spelled `+inf`/`-inf` as Redis expects; finite ones use Swift's
    /// shortest round-tripping form.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        if isInfinite {
            command.appendArgument(bytes: (self < 0 ? "-inf" : "+inf").utf8)
        } else {
            command.appendArgument(bytes: description.utf8)
        }
    }
}

extension Array: RedisArgument where Element == UInt8 {
    /// The bytes as they are: binary-safe.
    @inlinable
    public func appendAsRedisArgument(to command: inout RedisCommand) {
        command.appendArgument(bytes: self)
    }
}
