/// What an agent announces in its `hello` (docs/agent-protocol.md): where it is, what it offers.
///
/// Nodes belong to one tenant and only run that tenant's tasks. `zone` and `rack` name the
/// failure domains the node shares with others (racks are scoped by zone).
public struct NodeDescriptor: Hashable, Sendable {
    /// The node's name, unique within its tenant.
    public var id: NodeID
    /// The tenant whose tasks this node runs.
    public var tenant: TenantID
    /// Availability zone (failure domain).
    public var zone: String
    /// Rack within the zone (smaller failure domain).
    public var rack: String
    /// Labels matched by task label selectors.
    public var labels: [String: String]
    /// Concurrent task slots; a node with capacity 0 is never chosen.
    public var capacity: Int

    /// Creates a descriptor.
    public init(id: NodeID, tenant: TenantID, zone: String, rack: String, labels: [String: String] = [:], capacity: Int) {
        self.id = id
        self.tenant = tenant
        self.zone = zone
        self.rack = rack
        self.labels = labels
        self.capacity = max(0, capacity)
    }
}
