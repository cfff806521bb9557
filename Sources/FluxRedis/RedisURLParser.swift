/// Splits a `redis://` URL into its parts. Hand-written (a few lines) rather than Foundation's
/// `URL`, so FluxRedis needs no Foundation and every rejection gets a precise message.
struct RedisURLParser {
    struct Parts {
        var host: String
        var port = 6379
        var username: String?
        var password: String?
        var database = 0
    }

    private let url: String

    init(_ url: String) { self.url = url }

    func parse() throws(RedisError) -> Parts {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalidURL("missing 'redis://' scheme")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        if scheme == "rediss" { throw .invalidURL("TLS ('rediss://') is not supported by hiredis 0.14") }
        guard scheme == "redis" else { throw .invalidURL("scheme must be 'redis', not '\(scheme)'") }
        var rest = url[schemeEnd.upperBound...]
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            throw .invalidURL("query or fragment '\(rest[query...])' is not supported")
        }
        var parts = Parts(host: "")
        if let at = rest.lastIndex(of: "@") {
            try Self.parseUserInfo(rest[..<at], into: &parts)
            rest = rest[rest.index(after: at)...]
        }
        let path = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
        try Self.parseAuthority(rest.dropLast(path.count), into: &parts)
        parts.database = try Self.parseDatabase(path)
        return parts
    }

    private static func parseUserInfo(_ info: Substring, into parts: inout Parts) throws(RedisError) {
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

    private static func parseAuthority(_ authority: Substring, into parts: inout Parts) throws(RedisError) {
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
        parts.host = String(hostPart)
        if let portPart { parts.port = try parsePort(portPart) }
    }

    private static func parsePort(_ text: Substring) throws(RedisError) -> Int {
        guard !text.isEmpty else { throw .invalidURL("empty port after ':'") }
        guard text.allSatisfy(\.isASCIIDigit), let port = Int(text), (1...65535).contains(port) else {
            throw .invalidURL("port '\(text)' is not a number between 1 and 65535")
        }
        return port
    }

    private static func parseDatabase(_ path: Substring) throws(RedisError) -> Int {
        let text = path.dropFirst()
        if text.isEmpty { return 0 }
        guard text.allSatisfy(\.isASCIIDigit), let database = Int(text), database < 1 << 16 else {
            throw .invalidURL("database '\(text)' is not a non-negative number")
        }
        return database
    }

    private static func percentDecode(_ text: Substring, field: String) throws(RedisError) -> String {
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
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
