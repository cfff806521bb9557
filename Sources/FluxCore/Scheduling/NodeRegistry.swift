import HeapModule

/// The nodes of every tenant, their health, their failure domains, and the placement index.
///
/// Placement never scans a tenant's nodes: each (tenant, selector) has a pool whose heap is keyed
/// by (health bucket, load, handle), and a node is re-keyed whenever its load or health changes.
/// Entries carry the node's `version`; an entry whose version is old is skipped lazily. Only
/// nodes that can take work (connected, not quarantined, free capacity) have a current entry.
struct NodeRegistry: Sendable {
    var nodes: [NodeRecord] = []
    var index: [NodeKey: UInt32] = [:]
    var pools: [NodePool] = []
    var tenants: [TenantPlacement] = []
    var domains: [FailureDomainState] = []
    var domainIndex: [FailureDomain: UInt32] = [:]
    /// Quarantined nodes (re-evaluated each tick so that time can release them).
    var quarantined: [UInt32] = []
    /// Throttled domains (re-evaluated each tick so that time can recover them).
    var throttledDomains: [UInt32] = []
    /// Interned label selectors (tasks refer to them by handle).
    var selectors: [LabelSelector] = []
    var selectorIndex: [LabelSelector: UInt32] = [:]
    /// Heap entries set aside during one dispatch round (throttled, no token).
    var parked: [(pool: UInt32, entry: PoolEntry)] = []
    let configuration: SchedulerConfiguration
    /// `configuration.health.failureRateDecayInterval` in milliseconds, computed once.
    let healthDecay: Int64

    init(configuration: SchedulerConfiguration) {
        self.configuration = configuration
        healthDecay = configuration.health.failureRateDecayInterval.wholeMilliseconds
    }

    /// Makes room for tenant handle `tenant` and gives it its all-nodes pool.
    mutating func addTenant(_ tenant: UInt32) {
        while tenants.count <= Int(tenant) {
            let pool = UInt32(pools.count)
            pools.append(NodePool(tenant: UInt32(tenants.count), selector: nil))
            tenants.append(TenantPlacement(allPool: pool))
        }
    }

    /// The handle of a node, creating a disconnected placeholder if unknown (a restored in-flight
    /// task or a task targeting a node that has not said hello yet).
    mutating func handle(tenant: UInt32, node: NodeID, now: Timestamp) -> UInt32 {
        let key = NodeKey(tenant: tenant, node: node)
        if let existing = index[key] { return existing }
        let handle = UInt32(nodes.count)
        precondition(handle < 0x7FFF_FFFF, "node handles exhausted")
        let zone = domainHandle(.zone(""), now: now.milliseconds)
        let rack = domainHandle(.rack(zone: "", rack: ""), now: now.milliseconds)
        nodes.append(NodeRecord(id: node, tenant: tenant, zone: zone, rack: rack, health: NodeHealth(now: now)))
        index[key] = handle
        tenants[Int(tenant)].nodes.append(handle)
        domains[Int(zone)].nodes.append(handle)
        domains[Int(rack)].nodes.append(handle)
        join(handle, pool: tenants[Int(tenant)].allPool)
        return handle
    }

    func existingHandle(tenant: UInt32, node: NodeID) -> UInt32? {
        index[NodeKey(tenant: tenant, node: node)]
    }

    /// Applies a hello or re-announcement: location, labels, capacity; marks the node connected.
    mutating func connect(_ descriptor: NodeDescriptor, tenant: UInt32, now: Timestamp) -> UInt32 {
        let handle = handle(tenant: tenant, node: descriptor.id, now: now)
        moveDomains(handle, zone: descriptor.zone, rack: descriptor.rack, now: now.milliseconds)
        if nodes[Int(handle)].labels != descriptor.labels {
            nodes[Int(handle)].labels = descriptor.labels
            rematchSelectorPools(handle)
        }
        nodes[Int(handle)].capacity = Int32(clamping: descriptor.capacity)
        nodes[Int(handle)].isConnected = true
        refresh(handle, now: now)
        return handle
    }

    /// Marks the node disconnected; returns its in-flight task handles (the caller fails them).
    mutating func disconnect(_ handle: UInt32, now: Timestamp) -> [UInt32] {
        nodes[Int(handle)].isConnected = false
        refresh(handle, now: now)
        return nodes[Int(handle)].tasks
    }

    /// Forgets every node of a tenant (tenant removal).
    mutating func removeTenant(_ tenant: UInt32, now: Timestamp) {
        for handle in tenants[Int(tenant)].nodes {
            nodes[Int(handle)].isRemoved = true
            nodes[Int(handle)].tasks = []
            nodes[Int(handle)].inFlight = 0
            refresh(handle, now: now)
            index.removeValue(forKey: NodeKey(tenant: tenant, node: nodes[Int(handle)].id))
        }
        let allPool = tenants[Int(tenant)].allPool
        pools[Int(allPool)] = NodePool(tenant: tenant, selector: nil)
        for pool in tenants[Int(tenant)].selectorPools.values {
            pools[Int(pool)] = NodePool(tenant: tenant, selector: pools[Int(pool)].selector)
        }
        tenants[Int(tenant)] = TenantPlacement(allPool: allPool)
        quarantined.removeAll { nodes[Int($0)].isRemoved }
    }

    /// Records that `task` now runs on `handle`.
    mutating func assign(task: UInt32, to handle: UInt32, now: Timestamp) {
        nodes[Int(handle)].inFlight += 1
        nodes[Int(handle)].tasks.append(task)
        refresh(handle, now: now)
    }

    /// Records that `task` no longer runs on `handle`.
    mutating func release(task: UInt32, from handle: UInt32, now: Timestamp) {
        guard let position = nodes[Int(handle)].tasks.firstIndex(of: task) else { return }
        nodes[Int(handle)].tasks.swapAt(position, nodes[Int(handle)].tasks.count - 1)
        nodes[Int(handle)].tasks.removeLast()
        nodes[Int(handle)].inFlight -= 1
        refresh(handle, now: now)
    }

    mutating func domainHandle(_ domain: FailureDomain, now: Int64) -> UInt32 {
        if let existing = domainIndex[domain] { return existing }
        let handle = UInt32(domains.count)
        domains.append(FailureDomainState(domain: domain, now: now, configuration: configuration.domains))
        domainIndex[domain] = handle
        return handle
    }

    private mutating func moveDomains(_ handle: UInt32, zone: String, rack: String, now: Int64) {
        let zoneHandle = domainHandle(.zone(zone), now: now)
        let rackHandle = domainHandle(.rack(zone: zone, rack: rack), now: now)
        let old = (nodes[Int(handle)].zone, nodes[Int(handle)].rack)
        guard old != (zoneHandle, rackHandle) else { return }
        domains[Int(old.0)].nodes.removeAll { $0 == handle }
        domains[Int(old.1)].nodes.removeAll { $0 == handle }
        domains[Int(zoneHandle)].nodes.append(handle)
        domains[Int(rackHandle)].nodes.append(handle)
        nodes[Int(handle)].zone = zoneHandle
        nodes[Int(handle)].rack = rackHandle
    }

    mutating func internSelector(_ selector: LabelSelector) -> UInt32 {
        if let existing = selectorIndex[selector] { return existing }
        let handle = UInt32(selectors.count)
        selectors.append(selector)
        selectorIndex[selector] = handle
        return handle
    }

    func isDomainThrottled(_ handle: UInt32) -> Bool {
        let node = nodes[Int(handle)]
        return domains[Int(node.zone)].isThrottled || domains[Int(node.rack)].isThrottled
    }
}

/// Nodes are named per tenant.
struct NodeKey: Hashable, Sendable {
    var tenant: UInt32
    var node: NodeID
}

/// One node's state.
struct NodeRecord: Sendable {
    var id: NodeID
    var tenant: UInt32
    var zone: UInt32
    var rack: UInt32
    var labels: [String: String] = [:]
    var capacity: Int32 = 0
    var inFlight: Int32 = 0
    var isConnected = false
    var isRemoved = false
    var health: NodeHealth
    var version: UInt32 = 0
    var pools: [UInt32] = []
    var tasks: [UInt32] = []
    /// What this node currently contributes to its pools' and tenant's counters.
    var counted = NodeContribution()

    init(id: NodeID, tenant: UInt32, zone: UInt32, rack: UInt32, health: NodeHealth) {
        self.id = id
        self.tenant = tenant
        self.zone = zone
        self.rack = rack
        self.health = health
    }

    var isEligible: Bool { isConnected && !isRemoved && !health.isQuarantined && capacity > 0 }
    var freeSlots: Int32 { isEligible ? max(0, capacity - inFlight) : 0 }
}

/// A node's share of the counters, kept so that a change can be applied as a difference.
struct NodeContribution: Hashable, Sendable {
    var eligible = false
    var unthrottled = false
    var freeSlots: Int32 = 0
}

/// Per tenant: its nodes and pools, and its free slots across eligible nodes.
struct TenantPlacement: Sendable {
    var allPool: UInt32
    var selectorPools: [UInt32: UInt32] = [:]
    var nodes: [UInt32] = []
    var freeSlots = 0
}
