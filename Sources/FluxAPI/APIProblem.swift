/// A client-facing failure with a stable machine code, a human message and, where one input is
/// to blame, the field that caused it. Every error FluxForge returns over HTTP has this shape:
/// `{"error": {"code": "…", "message": "…", "field": "…"}}`.
public struct APIProblem: Error, Sendable, Hashable, Codable {
    /// Stable, documented code (`invalid_field`, `unknown_field`, `quota_exceeded`, …).
    public var code: String
    /// One sentence a person can act on.
    public var message: String
    /// Dotted path of the offending input field, when there is one.
    public var field: String?

    public init(code: String, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// An agent certificate that was revoked: the session is refused or ended, the node must enroll again.
    public static func certificateRevoked(serial: String) -> APIProblem {
        APIProblem(code: "certificate_revoked", message: "certificate \(serial) was revoked; enroll again with a new join token")
    }

    /// A field whose value is present but not acceptable.
    public static func invalid(_ field: String, _ message: String) -> APIProblem {
        APIProblem(code: "invalid_field", message: "\(field): \(message)", field: field)
    }

    /// A required field that is absent.
    public static func missing(_ field: String) -> APIProblem {
        APIProblem(code: "missing_field", message: "\(field) is required", field: field)
    }
}

/// The JSON envelope around an `APIProblem`.
public struct APIProblemBody: Codable, Sendable, Hashable {
    public var error: APIProblem
    public init(error: APIProblem) { self.error = error }
}
