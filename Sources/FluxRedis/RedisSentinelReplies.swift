/// The two replies Sentinel mode reads, decoded without I/O (unit-tested on their own): which
/// address a sentinel names, and which role a node claims. A reply of another shape is a
/// `protocolError`, never a guess: a wrong address or role must not be used.
enum RedisSentinelReplies {
    /// `SENTINEL get-master-addr-by-name <name>`: `[ip, port]`, or nil when the sentinel does
    /// not monitor a master of that name (a null reply).
    static func masterAddress(_ reply: RedisReply) throws(RedisError) -> RedisSentinelConfiguration.Address? {
        if reply.isNull { return nil }
        guard let fields = reply.array, fields.count == 2, let host = fields[0].string, !host.isEmpty,
              let port = fields[1].int, (1...65_535).contains(port)
        else { throw RedisReply.unexpected("SENTINEL get-master-addr-by-name", reply) }
        return RedisSentinelConfiguration.Address(host: host, port: Int(port))
    }

    /// `ROLE`: its first element, `master`, `slave` or `sentinel`.
    static func role(_ reply: RedisReply) throws(RedisError) -> String {
        guard let role = reply.array?.first?.string, !role.isEmpty else { throw RedisReply.unexpected("ROLE", reply) }
        return role
    }
}
