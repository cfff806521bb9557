/// Reads the RESP2 form of `CLUSTER SHARDS` (Redis 7.0+): an array of shards, each a flat
/// `key, value, …` array holding `slots` (a flat array of range bounds, start and end inclusive)
/// and `nodes` (each a flat array: `id`, `port`, `ip`, `endpoint`, `role`, `health`, …; `tls-port`
/// and `hostname` may appear, unknown fields are ignored).
///
/// The reply comes from the network, so nothing is trusted: any missing field, wrong type or
/// out-of-range number throws `protocolError` naming what was wrong, never traps.
extension RedisClusterTopology {
    /// Parses a `CLUSTER SHARDS` reply. `fallbackHost` replaces an unknown node address (`?` or
    /// empty endpoint and ip): the host of the node that answered.
    public init(shardsReply reply: RedisReply, fallbackHost: String = "127.0.0.1") throws(RedisError) {
        guard let elements = reply.array else { throw Self.malformed("expected an array of shards, got \(reply)") }
        var shards: [Shard] = []
        for element in elements {
            if let shard = try Self.shard(element, fallbackHost: fallbackHost) { shards.append(shard) }
        }
        self.init(shards: shards)
    }

    /// One shard; nil when it has no master (every node of it a replica, which Redis does not
    /// normally report, but a parser should not invent a master).
    private static func shard(_ reply: RedisReply, fallbackHost: String) throws(RedisError) -> Shard? {
        let fields = try fields(of: reply, what: "shard")
        guard let slotBounds = fields["slots"]?.array, let nodeReplies = fields["nodes"]?.array else {
            throw malformed("a shard without slots or nodes: \(reply)")
        }
        let ranges = try slotRanges(slotBounds)
        var nodes: [Node] = []
        for nodeReply in nodeReplies { nodes.append(try node(nodeReply, fallbackHost: fallbackHost)) }
        guard let master = nodes.first(where: \.isMaster) else { return nil }
        return Shard(slotRanges: ranges, master: master, replicas: nodes.filter { !$0.isMaster })
    }

    private static func slotRanges(_ bounds: [RedisReply]) throws(RedisError) -> [ClosedRange<Int>] {
        guard bounds.count.isMultiple(of: 2) else { throw malformed("an odd number of slot bounds: \(bounds)") }
        var ranges: [ClosedRange<Int>] = []
        for index in stride(from: 0, to: bounds.count, by: 2) {
            guard let start = bounds[index].int.map(Int.init), let end = bounds[index + 1].int.map(Int.init),
                  0 <= start, start <= end, end < RedisHashSlot.count
            else { throw malformed("slot range \(bounds[index])…\(bounds[index + 1]) is not within 0…16383") }
            ranges.append(start...end)
        }
        return ranges
    }

    private static func node(_ reply: RedisReply, fallbackHost: String) throws(RedisError) -> Node {
        let fields = try fields(of: reply, what: "node")
        guard let id = fields["id"]?.string, let role = fields["role"]?.string else {
            throw malformed("a node without id or role: \(reply)")
        }
        let plainPort = fields["port"]?.int.map(Int.init).flatMap { $0 > 0 ? $0 : nil }
        guard let port = plainPort ?? fields["tls-port"]?.int.map(Int.init), (1...65_535).contains(port) else {
            throw malformed("node \(id) has no usable port: \(reply)")
        }
        let host = [fields["endpoint"]?.string, fields["ip"]?.string]
            .compactMap { $0 }.first { !$0.isEmpty && $0 != "?" } ?? fallbackHost
        return Node(id: id, endpoint: RedisClusterEndpoint(host: host, port: port),
                    isMaster: role == "master", health: fields["health"]?.string ?? "unknown")
    }

    /// A flat RESP2 `key, value, …` array as a dictionary (keys must be strings).
    private static func fields(of reply: RedisReply, what: String) throws(RedisError) -> [String: RedisReply] {
        guard let flat = reply.array, flat.count.isMultiple(of: 2) else {
            throw malformed("expected a \(what) as a flat key/value array, got \(reply)")
        }
        var fields: [String: RedisReply] = [:]
        for index in stride(from: 0, to: flat.count, by: 2) {
            guard let key = flat[index].string else { throw malformed("a \(what) field name that is not text: \(flat[index])") }
            fields[key] = flat[index + 1]
        }
        return fields
    }

    private static func malformed(_ detail: String) -> RedisError {
        RedisError(code: .protocolError, message: "malformed CLUSTER SHARDS reply: \(detail)")
    }
}
