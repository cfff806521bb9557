import CHiredis
import NIOCore

// The one choke point for C: every use of the hiredis API, and every conversion of a hiredis
// reply or error into a Swift value, happens in this file.

/// A hiredis RESP reader confined to one event loop (it is not thread-safe). Bytes go in with
/// `feed`, complete replies come out of `next()` already copied into `RedisReply` values.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis: redisReaderCreate failed (out of memory)")
        }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Hands a chunk of received bytes to hiredis, which copies them into its own buffer.
    /// Feed NIO-sized chunks: hiredis shifts its buffer as it consumes, so huge feeds are slow.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw readerError() }
    }

    /// The next complete reply, or nil when more bytes are needed.
    /// Throws `protocolError` when the stream is not valid RESP; the connection must then close.
    func next() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw readerError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func readerError() -> RedisError {
        let text = withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(code: .protocolError, message: "hiredis reader: \(text)")
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING: return .bulk(bytes(node))
        case REDIS_REPLY_INTEGER: return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_STATUS: return .simpleString(String(decoding: bytes(node), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(node), as: UTF8.self))
        case REDIS_REPLY_ARRAY: return .array(elements(node))
        default: return .error("FluxRedis: unknown hiredis reply type \(node.type)")
        }
    }

    private static func bytes(_ node: redisReply) -> [UInt8] {
        guard let str = node.str, node.len > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: str, count: node.len))
    }

    private static func elements(_ node: redisReply) -> [RedisReply] {
        guard let element = node.element else { return [] }
        var result: [RedisReply] = []
        result.reserveCapacity(node.elements)
        for index in 0..<node.elements {
            if let child = element[index] { result.append(copy(child)) } else { result.append(.null) }
        }
        return result
    }
}

/// Encodes commands as RESP with hiredis's command formatter (`redisFormatSdsCommandArgv`). Stateless, so any thread
/// may call it: callers format on their own thread before handing bytes to the event loop.
enum HiredisFormatter {
    /// Appends the RESP encoding of `command` to `buffer`.
    static func write(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        let count = command.argumentCount
        command.bytes.withUnsafeBufferPointer { storage in
            command.ends.withUnsafeBufferPointer { ends in
                withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                        let base = UnsafeRawPointer(storage.baseAddress)
                        var start = 0
                        for index in 0..<count {
                            argv[index] = base.map { ($0 + start).assumingMemoryBound(to: CChar.self) }
                            lengths[index] = ends[index] - start
                            start = ends[index]
                        }
                        format(argc: count, argv: argv, lengths: lengths, into: &buffer)
                    }
                }
            }
        }
    }

    // `redisFormatSdsCommandArgv` is the same hiredis encoder as `redisFormatCommandArgv` but
    // writes the `*N`/`$len` headers with sds's own integer formatting instead of `vsprintf`,
    // which profiling showed to be the largest single cost of the pipelined path.
    private static func format(
        argc: Int,
        argv: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>,
        lengths: UnsafeMutableBufferPointer<Int>,
        into buffer: inout ByteBuffer
    ) {
        var target: sds?
        let length = redisFormatSdsCommandArgv(&target, Int32(argc), argv.baseAddress, lengths.baseAddress)
        guard length >= 0, let target else {
            fatalError("hiredis: redisFormatSdsCommandArgv failed (out of memory)")
        }
        defer { sdsfree(target) }
        buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
    }
}
