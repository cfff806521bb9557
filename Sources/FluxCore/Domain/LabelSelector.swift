/// An equality label selector: a node matches if it carries every listed `key=value`.
///
/// Stored sorted by key so that equal selectors hash equally; the scheduler interns selectors
/// and keeps one node pool per (tenant, selector), which is why selectors must be canonical.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    /// The required labels, sorted by key.
    public let requirements: [Requirement]

    /// One `key=value` requirement.
    public struct Requirement: Hashable, Sendable {
        /// Label key.
        public let key: String
        /// Required value.
        public let value: String
    }

    /// Creates a selector requiring every pair of `labels`.
    public init(_ labels: [String: String]) {
        requirements = labels.map { Requirement(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
    }

    /// True if `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { labels[$0.key] == $0.value }
    }

    /// `key=value,key=value`.
    public var description: String {
        requirements.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}

/// Where a task may run: any node of its tenant, one named node, or nodes matching a selector.
public enum PlacementTarget: Hashable, Sendable {
    /// Any node of the tenant.
    case any
    /// Exactly this node.
    case node(NodeID)
    /// Any node whose labels match.
    case selector(LabelSelector)
}
