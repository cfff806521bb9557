import HeapModule

/// The nodes of one tenant that match one selector (or all of the tenant's nodes), ranked.
struct NodePool: Sendable {
    let tenant: UInt32
    /// Selector handle, or nil for the all-nodes pool.
    let selector: UInt32?
    var members: [UInt32] = []
    /// Best candidate at `min`: highest health bucket, then lowest load, then lowest handle.
    var heap = Heap<PoolEntry>()
    /// Members that are connected, not quarantined and have capacity.
    var eligible = 0
    /// Eligible members whose zone and rack are not throttled.
    var unthrottled = 0

    init(tenant: UInt32, selector: UInt32?) {
        self.tenant = tenant
        self.selector = selector
    }
}

/// A ranked reference to a node, valid while `version` equals the node's.
struct PoolEntry: Comparable, Sendable {
    var key: UInt64
    var version: UInt32

    var node: UInt32 { UInt32(truncatingIfNeeded: key) }

    static func < (lhs: PoolEntry, rhs: PoolEntry) -> Bool {
        lhs.key != rhs.key ? lhs.key < rhs.key : lhs.version < rhs.version
    }

    static func == (lhs: PoolEntry, rhs: PoolEntry) -> Bool {
        lhs.key == rhs.key && lhs.version == rhs.version
    }

    /// Packs (inverted health bucket: 6 bits, load in 1/65535ths: 16 bits, node handle: 32 bits).
    static func key(bucket: Int, buckets: Int, inFlight: Int32, capacity: Int32, node: UInt32) -> UInt64 {
        let inverted = UInt64(max(0, buckets - bucket))
        let load = capacity > 0 ? UInt64(min(65535, Int(inFlight) * 65535 / Int(capacity))) : 65535
        return (inverted << 48) | (load << 32) | UInt64(node)
    }
}

extension NodeRegistry {
    /// The pool for a tenant's selector, built on first use with one pass over the tenant's nodes.
    mutating func pool(tenant: UInt32, selector: UInt32, now: Timestamp) -> UInt32 {
        if let existing = tenants[Int(tenant)].selectorPools[selector] { return existing }
        let pool = UInt32(pools.count)
        pools.append(NodePool(tenant: tenant, selector: selector))
        tenants[Int(tenant)].selectorPools[selector] = pool
        for node in tenants[Int(tenant)].nodes where selectors[Int(selector)].matches(nodes[Int(node)].labels) {
            join(node, pool: pool)
            refresh(node, now: now)
        }
        return pool
    }

    mutating func join(_ node: UInt32, pool: UInt32) {
        pools[Int(pool)].members.append(node)
        nodes[Int(node)].pools.append(pool)
        let counted = nodes[Int(node)].counted
        if counted.eligible { pools[Int(pool)].eligible += 1 }
        if counted.unthrottled { pools[Int(pool)].unthrottled += 1 }
    }

    private mutating func leave(_ node: UInt32, pool: UInt32) {
        pools[Int(pool)].members.removeAll { $0 == node }
        nodes[Int(node)].pools.removeAll { $0 == pool }
        let counted = nodes[Int(node)].counted
        if counted.eligible { pools[Int(pool)].eligible -= 1 }
        if counted.unthrottled { pools[Int(pool)].unthrottled -= 1 }
    }

    /// After a label change: joins and leaves the tenant's selector pools as needed.
    mutating func rematchSelectorPools(_ node: UInt32) {
        let tenant = nodes[Int(node)].tenant
        for (selector, pool) in tenants[Int(tenant)].selectorPools {
            let matches = selectors[Int(selector)].matches(nodes[Int(node)].labels)
            let member = nodes[Int(node)].pools.contains(pool)
            if matches && !member { join(node, pool: pool) }
            if !matches && member { leave(node, pool: pool) }
        }
    }

    /// Re-derives a node's counters and ranking after any change to it. Every change bumps the
    /// version (old heap entries die) and, if the node can take work, pushes fresh entries.
    mutating func refresh(_ handle: UInt32, now: Timestamp) {
        let index = Int(handle)
        let eligible = nodes[index].isEligible
        let next = NodeContribution(
            eligible: eligible, unthrottled: eligible && !isDomainThrottled(handle), freeSlots: nodes[index].freeSlots)
        let old = nodes[index].counted
        if next != old {
            let eligibleDelta = (next.eligible ? 1 : 0) - (old.eligible ? 1 : 0)
            let unthrottledDelta = (next.unthrottled ? 1 : 0) - (old.unthrottled ? 1 : 0)
            for pool in nodes[index].pools {
                pools[Int(pool)].eligible += eligibleDelta
                pools[Int(pool)].unthrottled += unthrottledDelta
            }
            tenants[Int(nodes[index].tenant)].freeSlots += Int(next.freeSlots - old.freeSlots)
            nodes[index].counted = next
        }
        nodes[index].version &+= 1
        guard next.freeSlots > 0 else { return }
        let entry = PoolEntry(key: rankKey(handle, now: now), version: nodes[index].version)
        for position in nodes[index].pools.indices {
            let pool = nodes[index].pools[position]
            pools[Int(pool)].heap.insert(entry)
            compactIfNeeded(pool, now: now)
        }
    }

    private func rankKey(_ handle: UInt32, now: Timestamp) -> UInt64 {
        let index = Int(handle)
        let buckets = configuration.placementScoreBuckets
        let value = nodes[index].health.scoreValue(at: now, configuration: configuration.health, decay: healthDecay)
        let bucket = min(buckets, max(0, Int(value * Double(buckets))))
        return PoolEntry.key(
            bucket: bucket, buckets: buckets, inFlight: nodes[index].inFlight, capacity: nodes[index].capacity, node: handle)
    }

    /// Rebuilds a heap whose stale entries outnumber its members.
    private mutating func compactIfNeeded(_ pool: UInt32, now: Timestamp) {
        guard pools[Int(pool)].heap.count > 4 * pools[Int(pool)].members.count + 64 else { return }
        var fresh: [PoolEntry] = []
        fresh.reserveCapacity(pools[Int(pool)].members.count)
        for handle in pools[Int(pool)].members where nodes[Int(handle)].freeSlots > 0 {
            fresh.append(PoolEntry(key: rankKey(handle, now: now), version: nodes[Int(handle)].version))
        }
        pools[Int(pool)].heap = Heap(fresh)
    }

    /// The best node of `pool` that may take a task now, consuming a domain token if its domain
    /// is throttled. Throttled nodes without a token are parked until `unpark()`; after
    /// `maxPlacementSkips` of them the pool counts as blocked for this round.
    mutating func choose(inPool pool: UInt32, now: Timestamp) -> UInt32? {
        var skips = 0
        while let top = pools[Int(pool)].heap.min {
            let handle = top.node
            guard top.version == nodes[Int(handle)].version else {
                _ = pools[Int(pool)].heap.popMin()
                continue
            }
            if takeDomainTokensIfNeeded(handle, now: now.milliseconds) { return handle }
            parked.append((pool, pools[Int(pool)].heap.removeMin()))
            skips += 1
            if skips >= configuration.maxPlacementSkips { return nil }
        }
        return nil
    }

    /// The targeted node if it may take a task now (same rules as pools).
    mutating func choose(node handle: UInt32, tenant: UInt32, now: Timestamp) -> UInt32? {
        guard nodes[Int(handle)].tenant == tenant, nodes[Int(handle)].freeSlots > 0 else { return nil }
        return takeDomainTokensIfNeeded(handle, now: now.milliseconds) ? handle : nil
    }

    /// True if the node's domains let a dispatch through now (taking their tokens).
    private mutating func takeDomainTokensIfNeeded(_ handle: UInt32, now: Int64) -> Bool {
        let zone = Int(nodes[Int(handle)].zone)
        let rack = Int(nodes[Int(handle)].rack)
        let zoneBlocked = domains[zone].isThrottled && !domains[zone].hasToken(now: now)
        let rackBlocked = domains[rack].isThrottled && !domains[rack].hasToken(now: now)
        guard !zoneBlocked && !rackBlocked else { return false }
        if domains[zone].isThrottled { domains[zone].takeToken(now: now) }
        if domains[rack].isThrottled { domains[rack].takeToken(now: now) }
        return true
    }

    /// Puts parked entries back (end of a dispatch round).
    mutating func unpark() {
        for (pool, entry) in parked where entry.version == nodes[Int(entry.node)].version {
            pools[Int(pool)].heap.insert(entry)
        }
        parked.removeAll(keepingCapacity: true)
    }

    /// (eligible, unthrottled) node counts for a placement constraint; admission defers when
    /// there are eligible nodes but none unthrottled.
    func eligibility(pool: UInt32) -> (eligible: Int, unthrottled: Int) {
        (pools[Int(pool)].eligible, pools[Int(pool)].unthrottled)
    }

    func eligibility(node handle: UInt32) -> (eligible: Int, unthrottled: Int) {
        let counted = nodes[Int(handle)].counted
        return (counted.eligible ? 1 : 0, counted.unthrottled ? 1 : 0)
    }
}
