import FluxCore

/// Simulated agents and the bookkeeping of what the scheduler decided.
extension Simulator {
    /// 2 % of nodes, chosen by hash so that no tenant's fleet is all liars.
    func isLiar(_ node: Int) -> Bool { configuration.has(.liars) && Self.isLiarIndex(node) }

    static func isLiarIndex(_ node: Int) -> Bool { SplitMix64.mix(UInt64(node) ^ 0x5EED) % 50 == 0 }

    func isPoison(_ task: Int) -> Bool { configuration.has(.poison) && task % 2000 == 1999 }

    /// A tenant's nodes are spread over every zone.
    func zone(of node: Int) -> Int { (node / configuration.tenants) % configuration.zones }

    func inOutage(_ node: Int, at time: Int64) -> Bool {
        configuration.has(.zoneOutage) && zone(of: node) == SimulationConfiguration.outageZone
            && time >= SimulationConfiguration.outageStart && time < SimulationConfiguration.outageEnd
    }

    mutating func observe(_ decision: SchedulerDecision) {
        switch decision {
        case .dispatched(let transition, let node, let attempt, _):
            dispatched(Self.number(transition.task.rawValue), node: Self.number(node.rawValue), attempt: attempt)
        case .nodeQuarantined(_, let node, _):
            stats.recordQuarantine(node: Self.number(node.rawValue), liar: isLiar(Self.number(node.rawValue)),
                                   outage: inOutage(Self.number(node.rawValue), at: now), at: now)
        case .domainThrottled(let domain, _):
            if domain == .zone("zone-\(SimulationConfiguration.outageZone)"), stats.outageThrottledAt == nil,
               configuration.has(.zoneOutage) {
                stats.outageThrottledAt = now
            }
            stats.domainThrottles += 1
        case .modeChanged(_, let to, let reason):
            stats.modeChanges.append("\(Self.seconds(now)) \(to.rawValue) (\(reason.code))")
        default:
            break
        }
        if let transition = decision.transition { stats.count(transition) }
    }

    /// The agent receives the attempt: it starts after network latency and finishes after the
    /// job's duration, failing according to what the node and the task are.
    private mutating func dispatched(_ task: Int, node: Int, attempt: Int) {
        if firstDispatchAt[task] < 0 { firstDispatchAt[task] = now }
        stats.recordDispatch(zoneIsFailing: zone(of: node) == SimulationConfiguration.outageZone, at: now,
                             outageEnabled: configuration.has(.zoneOutage))
        let latency = 5 + Int64(random.next() % 25)
        if isPoison(task) {
            events.schedule(.finished(task: task, attempt: attempt, outcome: .crashed), at: now + latency + 100)
            return
        }
        let range = configuration.durationRange
        let duration = range.lowerBound + Int64(random.next() % UInt64(range.upperBound - range.lowerBound + 1))
        let failureRate = isLiar(node) ? 0.8 : (inOutage(node, at: now) ? 0.7 : 0.01)
        let outcome: TaskOutcome = random.nextUnitDouble() < failureRate ? .exitCode(1) : .succeeded
        events.schedule(.started(task: task, attempt: attempt), at: now + latency)
        events.schedule(.finished(task: task, attempt: attempt, outcome: outcome), at: now + latency + duration)
    }

    /// Every second a tenth of the agents report health and get probed. Liars and browned-out
    /// agents claim to be perfect; probes of a browned-out zone are slow.
    mutating func sweepHealth() {
        let share = max(1, configuration.nodes / 10)
        for _ in 0..<share {
            let node = sweepCursor
            sweepCursor = (sweepCursor + 1) % configuration.nodes
            let tenant = tenantIDs[node % configuration.tenants]
            let honest = isLiar(node) || inOutage(node, at: now) ? 1.0 : 1.0 - Double(random.next() % 5) / 100
            apply(.agentHealthReported(tenant: tenant, node: nodeIDs[node], report: honest))
            let roundTrip: Int64 = inOutage(node, at: now) ? 1_500 : 10 + Int64(random.next() % 40)
            apply(.probeCompleted(tenant: tenant, node: nodeIDs[node], result: .ok(roundTrip: .milliseconds(roundTrip))))
        }
        events.schedule(.healthSweep, at: now + 1_000)
    }

    static func seconds(_ milliseconds: Int64) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let value = abs(milliseconds)
        let fraction = String(value % 1000)
        return "\(sign)\(value / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction + "s"
    }
}
