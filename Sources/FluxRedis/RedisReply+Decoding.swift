/// Checked conversions the command helpers use: a reply of the wrong shape becomes a
/// `protocolError` naming the command, never a trap.
extension RedisReply {
    static func unexpected(_ what: String, _ reply: RedisReply) -> RedisError {
        RedisError(code: .protocolError, message: "unexpected reply shape for \(what): \(reply)")
    }

    func expectString(for command: String) throws(RedisError) -> String {
        guard let string, !isErrorReply else { throw Self.unexpected(command, self) }
        return string
    }

    func expectInt(for command: String) throws(RedisError) -> Int64 {
        guard let int else { throw Self.unexpected(command, self) }
        return int
    }

    func expectArray(for command: String) throws(RedisError) -> [RedisReply] {
        guard let array else { throw Self.unexpected(command, self) }
        return array
    }

    private var isErrorReply: Bool {
        if case .error = self { return true }
        return false
    }

    /// An error reply saying the node is a replica (`READONLY You can't write against a read only
    /// replica.`, also from a script's write): a write reached a demoted master.
    var isReadOnlyError: Bool {
        if case .error(let text) = self { return text.hasPrefix("READONLY") }
        return false
    }
}
