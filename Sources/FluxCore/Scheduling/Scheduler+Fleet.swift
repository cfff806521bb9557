/// Tenants and nodes: configuration, connection, health inputs, removal.
extension Scheduler {
    enum HealthInput {
        case report(Double)
        case probe(ProbeResult)
    }

    mutating func configureTenant(_ id: TenantID, _ configuration: TenantConfiguration) {
        if let existing = tenantIndex[id] {
            tenants[Int(existing)].configuration = configuration
            tenants[Int(existing)].isConfigured = true
            return
        }
        let handle = UInt32(tenants.count)
        tenants.append(TenantState(id: id, configuration: configuration))
        tenantIndex[id] = handle
        queues.addTenant(handle)
        registry.addTenant(handle)
    }

    /// Forgets the tenant's tasks (one pass over task storage) and nodes, silently: the new
    /// owner of the slot continues from Redis, so no state change may be written from here.
    mutating func removeTenant(_ id: TenantID, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let tenant = tenantIndex[id], tenants[Int(tenant)].isConfigured else {
            out.append(Self.ignored(.unknownTenant, tenant: id))
            return
        }
        var forgotten = 0
        for handle in 0..<UInt32(store.records.count) where store[handle].isLive && store[handle].tenant == tenant {
            if store[handle].state.isInFlight { inFlightTotal -= 1 }
            poisonNodes.removeValue(forKey: handle)
            store.remove(handle)
            forgotten += 1
        }
        queues.removeTenant(tenant)
        registry.removeTenant(tenant, now: now)
        let configuration = tenants[Int(tenant)].configuration
        let inRing = tenants[Int(tenant)].inActiveRing
        tenants[Int(tenant)] = TenantState(id: id, configuration: configuration)
        tenants[Int(tenant)].isConfigured = false
        tenants[Int(tenant)].inActiveRing = inRing
        out.append(.tenantRemoved(id, forgottenTasks: forgotten))
    }

    mutating func connectNode(_ descriptor: NodeDescriptor, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let tenant = configuredTenant(descriptor.tenant) else {
            out.append(Self.ignored(.unknownTenant, tenant: descriptor.tenant, node: descriptor.id))
            return
        }
        _ = registry.connect(descriptor, tenant: tenant, now: now)
    }

    /// The node's in-flight attempts fail as `nodeLost` (retry elsewhere, or poison).
    mutating func disconnectNode(_ tenantID: TenantID, _ nodeID: NodeID, now: Timestamp, into out: inout [SchedulerDecision]) {
        guard let tenant = configuredTenant(tenantID), let node = registry.existingHandle(tenant: tenant, node: nodeID) else {
            out.append(Self.ignored(.unknownNode, tenant: tenantID, node: nodeID))
            return
        }
        for task in registry.disconnect(node, now: now) {
            conclude(task, outcome: .nodeLost, now: now, into: &out)
        }
    }

    mutating func reportHealth(
        _ tenantID: TenantID, _ nodeID: NodeID, _ input: HealthInput, now: Timestamp, into out: inout [SchedulerDecision]
    ) {
        guard let tenant = configuredTenant(tenantID), let node = registry.existingHandle(tenant: tenant, node: nodeID) else {
            out.append(Self.ignored(.unknownNode, tenant: tenantID, node: nodeID))
            return
        }
        let change: NodeHealth.Change
        switch input {
        case .report(let value): change = registry.recordAgentReport(value, on: node, now: now)
        case .probe(let result): change = registry.recordProbe(result, on: node, now: now)
        }
        emit(NodeRegistry.HealthChange(node: node, change: change), now: now, into: &out)
    }

    func configuredTenant(_ id: TenantID) -> UInt32? {
        guard let handle = tenantIndex[id], tenants[Int(handle)].isConfigured else { return nil }
        return handle
    }
}
