/// Decoders from raw stream replies (already Swift values) to typed results; an unexpected
/// shape throws `protocolError` naming the command, never traps.
enum RedisStreamReply {
    /// `XREADGROUP`/`XREAD`: `[[stream, [[id, [f, v, …]], …]], …]` or nil on BLOCK timeout.
    static func streams(_ reply: RedisReply) throws(RedisError) -> [RedisStreamEntry] {
        if reply.isNull { return [] }
        guard let streams = reply.array else { throw RedisReply.unexpected("XREADGROUP", reply) }
        var result: [RedisStreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string, let entries = pair[1].array else {
                throw RedisReply.unexpected("XREADGROUP", stream)
            }
            for entry in entries { result.append(try self.entry(entry, stream: name)) }
        }
        return result
    }

    /// `XAUTOCLAIM`: `[next, [entries], [deleted ids]]` (the third element since Redis 7).
    static func autoclaim(_ reply: RedisReply, stream: String) throws(RedisError) -> RedisAutoclaimResult {
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string, let entries = parts[1].array else {
            throw RedisReply.unexpected("XAUTOCLAIM", reply)
        }
        var claimed: [RedisStreamEntry] = []
        for entry in entries where !entry.isNull { claimed.append(try self.entry(entry, stream: stream)) }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
        return RedisAutoclaimResult(next: next, entries: claimed, deletedIDs: deleted)
    }

    /// `XPENDING key group`: `[count, smallest, largest, [[consumer, count], …]]`.
    static func pendingSummary(_ reply: RedisReply) throws(RedisError) -> RedisPendingSummary {
        guard let parts = reply.array, parts.count == 4, let count = parts[0].int else {
            throw RedisReply.unexpected("XPENDING", reply)
        }
        var consumers: [String: Int64] = [:]
        for consumer in parts[3].array ?? [] {
            guard let pair = consumer.array, pair.count == 2, let name = pair[0].string, let pending = pair[1].int else {
                throw RedisReply.unexpected("XPENDING", consumer)
            }
            consumers[name] = pending
        }
        return RedisPendingSummary(count: count, smallestID: parts[1].string, largestID: parts[2].string, consumers: consumers)
    }

    /// `[id, [f, v, …]]`; the field list is nil for an entry deleted while pending.
    private static func entry(_ reply: RedisReply, stream: String) throws(RedisError) -> RedisStreamEntry {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string else { throw RedisReply.unexpected("stream entry", reply) }
        let flat = pair[1].array ?? []
        guard flat.count % 2 == 0 else { throw RedisReply.unexpected("stream entry fields", pair[1]) }
        var fields: [RedisStreamEntry.Field] = []
        fields.reserveCapacity(flat.count / 2)
        for index in stride(from: 0, to: flat.count, by: 2) {
            guard let name = flat[index].string, let value = flat[index + 1].bytes else { throw RedisReply.unexpected("stream field", flat[index]) }
            fields.append(RedisStreamEntry.Field(name: name, value: value))
        }
        return RedisStreamEntry(stream: stream, id: id, fields: fields)
    }
}
