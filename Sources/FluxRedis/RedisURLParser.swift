/// Splits a `redis://` (or `rediss://`, `redis-sentinel://`) URL into its parts. Hand-written (a
/// few lines) rather than Foundation's `URL`, so FluxRedis needs no Foundation and every
/// rejection gets a precise message. The Sentinel form is in `RedisURLParser+Sentinel.swift`.
struct RedisURLParser {
    struct Parts {
        var host: String
        var port = 6379
        var username: String?
        var password: String?
        var database = 0
        /// `rediss://`: TLS on the connection.
        var tls = false
        /// `?ca=<path>` (percent-decoded): the PEM CA file the server's certificate must chain to.
        var caFile: String?
        /// `redis-sentinel://`: the sentinels and the master's name.
        var sentinel: RedisSentinelConfiguration?
    }

    private let url: String

    init(_ url: String) { self.url = url }

    func parse() throws(RedisError) -> Parts {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalidURL("missing 'redis://' scheme")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        if let fragment = rest.firstIndex(of: "#") {
            throw .invalidURL("fragment '\(rest[fragment...])' is not supported")
        }
        switch scheme {
        case "redis", "rediss": return try Self.parseServer(rest, tls: scheme == "rediss")
        case "redis-sentinel": return try Self.parseSentinel(rest)
        case "rediss-sentinel": throw .invalidURL("TLS through Sentinel ('rediss-sentinel://') is not supported yet")
        default: throw .invalidURL("scheme must be 'redis', 'rediss' or 'redis-sentinel', not '\(scheme)'")
        }
    }

    /// `[user:password@]host[:port][/db][?ca=…]`, after `redis://` or `rediss://`.
    private static func parseServer(_ text: Substring, tls: Bool) throws(RedisError) -> Parts {
        var parts = Parts(host: "")
        parts.tls = tls
        var rest = text
        if let query = rest.firstIndex(of: "?") {
            parts.caFile = try parseQuery(rest[rest.index(after: query)...], tls: parts.tls)
            rest = rest[..<query]
        }
        if let at = rest.lastIndex(of: "@") {
            try parseUserInfo(rest[..<at], into: &parts)
            rest = rest[rest.index(after: at)...]
        }
        let path = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
        (parts.host, parts.port) = try parseAuthority(rest.dropLast(path.count), defaultPort: 6379)
        parts.database = try parseDatabase(path)
        return parts
    }

    static func parseUserInfo(_ info: Substring, into parts: inout Parts) throws(RedisError) {
        if let colon = info.firstIndex(of: ":") {
            let user = try percentDecode(info[..<colon], field: "user")
            parts.username = user.isEmpty ? nil : user
            parts.password = try percentDecode(info[info.index(after: colon)...], field: "password")
        } else {
            // `redis://secret@host` is the common shorthand for a password with no user.
            parts.password = try percentDecode(info, field: "password")
        }
        if parts.password?.isEmpty == true { throw .invalidURL("empty password after ':'") }
    }

    /// `host[:port]` or `[ipv6][:port]`.
    static func parseAuthority(_ authority: Substring, defaultPort: Int) throws(RedisError) -> (host: String, port: Int) {
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("unclosed '[' in IPv6 host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("unexpected text after IPv6 host") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw .invalidURL("missing host") }
        guard !hostPart.contains(where: { $0.isWhitespace || $0 == "@" }) else {
            throw .invalidURL("host contains whitespace or '@'")
        }
        return (String(hostPart), try portPart.map(parsePort) ?? defaultPort)
    }

    private static func parsePort(_ text: Substring) throws(RedisError) -> Int {
        guard !text.isEmpty else { throw .invalidURL("empty port after ':'") }
        guard text.allSatisfy(\.isASCIIDigit), let port = Int(text), (1...65535).contains(port) else {
            throw .invalidURL("port '\(text)' is not a number between 1 and 65535")
        }
        return port
    }

    /// The one query parameter: `ca=<path>`, for `rediss://` only.
    private static func parseQuery(_ query: Substring, tls: Bool) throws(RedisError) -> String {
        guard tls else { throw .invalidURL("a query ('?ca=…') is only for 'rediss://'") }
        guard query.hasPrefix("ca="), !query.contains("&") else { throw .invalidURL("the only query parameter is 'ca=<path of a PEM CA file>'") }
        let path = try percentDecode(query.dropFirst(3), field: "ca")
        guard !path.isEmpty else { throw .invalidURL("empty 'ca=' path") }
        return path
    }

    static func parseDatabase(_ path: Substring) throws(RedisError) -> Int {
        let text = path.dropFirst()
        if text.isEmpty { return 0 }
        guard text.allSatisfy(\.isASCIIDigit), let database = Int(text), database < 1 << 16 else {
            throw .invalidURL("database '\(text)' is not a non-negative number")
        }
        return database
    }

    static func percentDecode(_ text: Substring, field: String) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidURL("bad percent-escape in \(field)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
