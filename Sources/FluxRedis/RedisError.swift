/// The one error type of FluxRedis. Callers branch on `code` (stable, machine-readable) and log
/// `message` (human-readable, includes the server's text for `server` errors). The code wraps a
/// private enum so new cases can be added without breaking exhaustive switches in callers.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code. Compare with the static members (`.timeout`, …).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: Sendable, Hashable {
            case connectionRefused, connectionLost, timeout, server, protocolError
            case invalidURL, authenticationFailed, closed, cancelled
        }

        let value: Value

        /// The server could not be reached (refused, unreachable, or still in reconnect backoff).
        public static let connectionRefused = Code(value: .connectionRefused)
        /// The connection dropped while the command was pending or before it was sent.
        public static let connectionLost = Code(value: .connectionLost)
        /// No reply arrived within the command (or connect) timeout; a late reply is discarded.
        public static let timeout = Code(value: .timeout)
        /// The server answered with an error reply (`WRONGTYPE …`, `NOSCRIPT …`, `ERR …`).
        public static let server = Code(value: .server)
        /// The server sent bytes that are not valid RESP; the connection was closed.
        public static let protocolError = Code(value: .protocolError)
        /// A `redis://` URL could not be parsed.
        public static let invalidURL = Code(value: .invalidURL)
        /// `AUTH` was rejected (wrong user or password).
        public static let authenticationFailed = Code(value: .authenticationFailed)
        /// The connection or client was closed by its owner.
        public static let closed = Code(value: .closed)
        /// The calling task was cancelled while waiting. The command may still run on the server;
        /// its reply is discarded and the connection stays usable.
        public static let cancelled = Code(value: .cancelled)

        /// The code's name, e.g. `timeout`.
        public var description: String {
            switch value {
            case .connectionRefused: "connectionRefused"
            case .connectionLost: "connectionLost"
            case .timeout: "timeout"
            case .server: "server"
            case .protocolError: "protocolError"
            case .invalidURL: "invalidURL"
            case .authenticationFailed: "authenticationFailed"
            case .closed: "closed"
            case .cancelled: "cancelled"
            }
        }
    }

    /// The stable code to branch on.
    public let code: Code
    /// Human-readable detail; for `server` errors, the server's error text verbatim.
    public let message: String
    /// True when FluxRedis knows the command (or whole batch) never left this process: the
    /// connect failed, or the connection was already gone when the request was queued, so no
    /// byte of it was written and the server cannot have run it. A retry then cannot run it
    /// twice. False means unknown: it may have run (a written command whose connection dropped).
    public let wasNeverSent: Bool

    /// Builds an error; mostly used inside FluxRedis, public so wrappers and tests can fake one.
    public init(code: Code, message: String, wasNeverSent: Bool = false) {
        self.code = code
        self.message = message
        self.wasNeverSent = wasNeverSent
    }

    /// This error, marked as about a command that was never written (see `wasNeverSent`).
    func markedNeverSent() -> RedisError {
        RedisError(code: code, message: message, wasNeverSent: true)
    }

    /// `RedisError.<code>: <message>`, for logs.
    public var description: String { "RedisError.\(code): \(message)" }

    /// True when the connection itself failed (refused, lost, closed, or the server refused to
    /// authenticate): the store is unreachable, not merely unhappy with one command. A timeout,
    /// a server error reply or a protocol surprise is about the command that got it.
    public var isConnectionFailure: Bool {
        code == .connectionRefused || code == .connectionLost || code == .closed || code == .authenticationFailed
    }

    /// For `server` errors, the error prefix the server used (`WRONGTYPE`, `NOSCRIPT`, `ERR`, …).
    public var serverErrorPrefix: Substring? {
        guard code == .server else { return nil }
        return message.prefix { $0 != " " }
    }
}

extension RedisError {
    static func server(_ text: String) -> RedisError { RedisError(code: .server, message: text) }
    static func connectionLost(_ detail: String) -> RedisError {
        RedisError(code: .connectionLost, message: detail)
    }
    static func closed(_ detail: String = "the connection was closed by its owner") -> RedisError {
        RedisError(code: .closed, message: detail)
    }
    // The URL itself is not echoed: it may carry a password.
    static func cancelled() -> RedisError {
        RedisError(code: .cancelled, message: "the calling task was cancelled; the command may still run on the server")
    }
    static func invalidURL(_ problem: String) -> RedisError {
        RedisError(code: .invalidURL, message: "invalid Redis URL: \(problem)")
    }
}
