/// The one public error type of FluxCore.
///
/// It wraps a private code so that new failure kinds can be added without breaking callers that
/// switch over the public surface; callers compare against the static members (`==`) and read
/// `code` for a stable machine-readable string (the HTTP layer maps it to an error body).
public struct FluxCoreError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidTenantName
        case invalidNodeName
        case invalidTaskID
        case invalidPriorityClass
        case invalidConfiguration
        case illegalTransition
    }

    private let code: Code
    /// Human-readable detail; not part of equality so that messages can improve freely.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A tenant name that does not match `[a-z0-9-]{1,63}`.
    public static func invalidTenantName(_ raw: String) -> FluxCoreError {
        FluxCoreError(.invalidTenantName, "tenant name must match [a-z0-9-]{1,63}: \(raw.debugDescription)")
    }

    /// A node name that does not match `[a-z0-9-]{1,63}`.
    public static func invalidNodeName(_ raw: String) -> FluxCoreError {
        FluxCoreError(.invalidNodeName, "node name must match [a-z0-9-]{1,63}: \(raw.debugDescription)")
    }

    /// A task id that is empty, longer than 32 bytes, or not printable ASCII without spaces.
    public static func invalidTaskID(_ raw: String) -> FluxCoreError {
        FluxCoreError(.invalidTaskID, "task id must be 1...32 printable ASCII bytes: \(raw.debugDescription)")
    }

    /// A priority class outside P0...P10.
    public static func invalidPriorityClass(_ raw: Int) -> FluxCoreError {
        FluxCoreError(.invalidPriorityClass, "priority class must be 0...10, got \(raw)")
    }

    /// A configuration value outside its documented range.
    public static func invalidConfiguration(_ detail: String) -> FluxCoreError {
        FluxCoreError(.invalidConfiguration, detail)
    }

    /// A task state change that docs/scheduler-design.md does not allow; it is never applied.
    public static func illegalTransition(from: TaskState, to: TaskState) -> FluxCoreError {
        FluxCoreError(.illegalTransition, "illegal task transition \(from.rawValue) -> \(to.rawValue)")
    }

    /// Stable machine-readable code, e.g. `invalid_tenant_name`.
    public var codeString: String {
        switch code {
        case .invalidTenantName: "invalid_tenant_name"
        case .invalidNodeName: "invalid_node_name"
        case .invalidTaskID: "invalid_task_id"
        case .invalidPriorityClass: "invalid_priority_class"
        case .invalidConfiguration: "invalid_configuration"
        case .illegalTransition: "illegal_transition"
        }
    }

    public var description: String { "\(codeString): \(message)" }

    public static func == (lhs: FluxCoreError, rhs: FluxCoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
