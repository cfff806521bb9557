/// Health and failure-domain inputs of the registry. Each returns what changed so that the
/// scheduler can emit `nodeQuarantined`/`nodeReleased` and `domainThrottled`/`domainRecovered`.
extension NodeRegistry {
    /// A quarantine change of one node.
    struct HealthChange {
        var node: UInt32
        var change: NodeHealth.Change
    }

    /// A throttle flip of one domain.
    struct DomainFlip {
        var domain: UInt32
        var throttled: Bool
        var failureRate: Double
    }

    /// Folds one job outcome into the node's health and its zone's and rack's failure rates, and
    /// re-ranks the node.
    mutating func recordJob(
        on handle: UInt32, failed: Bool, now: Timestamp, flips: inout [DomainFlip]
    ) -> NodeHealth.Change {
        let change = nodes[Int(handle)].health.recordJob(failed: failed, now: now, configuration: configuration.health)
        applyQuarantine(handle, change, now: now)
        for domain in [nodes[Int(handle)].zone, nodes[Int(handle)].rack] {
            if domains[Int(domain)].record(failed: failed, now: now.milliseconds, configuration: configuration.domains) {
                flips.append(didFlip(domain, now: now))
            }
        }
        return change
    }

    mutating func recordAgentReport(_ report: Double, on handle: UInt32, now: Timestamp) -> NodeHealth.Change {
        let change = nodes[Int(handle)].health.recordAgentReport(report, now: now, configuration: configuration.health)
        applyQuarantine(handle, change, now: now)
        return change
    }

    mutating func recordProbe(_ result: ProbeResult, on handle: UInt32, now: Timestamp) -> NodeHealth.Change {
        let change = nodes[Int(handle)].health.recordProbe(result, now: now, configuration: configuration.health)
        applyQuarantine(handle, change, now: now)
        return change
    }

    /// Lets time release quarantined nodes.
    mutating func reevaluateQuarantined(now: Timestamp) -> [HealthChange] {
        guard !quarantined.isEmpty else { return [] }
        var changes: [HealthChange] = []
        for handle in quarantined {
            let change = nodes[Int(handle)].health.evaluate(now: now, configuration: configuration.health)
            if change != .none { changes.append(HealthChange(node: handle, change: change)) }
        }
        for change in changes { applyQuarantine(change.node, change.change, now: now) }
        return changes
    }

    /// Lets time recover throttled domains.
    mutating func reevaluateThrottled(now: Timestamp) -> [DomainFlip] {
        guard !throttledDomains.isEmpty else { return [] }
        var flips: [DomainFlip] = []
        for domain in throttledDomains
        where domains[Int(domain)].evaluate(now: now.milliseconds, configuration: configuration.domains) {
            flips.append(didFlip(domain, now: now))
        }
        return flips
    }

    func score(of handle: UInt32, now: Timestamp) -> HealthScore {
        nodes[Int(handle)].health.score(at: now, configuration: configuration.health)
    }

    private mutating func applyQuarantine(_ handle: UInt32, _ change: NodeHealth.Change, now: Timestamp) {
        switch change {
        case .none:
            break
        case .quarantined:
            quarantined.append(handle)
        case .released:
            quarantined.removeAll { $0 == handle }
        }
        refresh(handle, now: now)
    }

    private mutating func didFlip(_ domain: UInt32, now: Timestamp) -> DomainFlip {
        let state = domains[Int(domain)]
        if state.isThrottled {
            throttledDomains.append(domain)
        } else {
            throttledDomains.removeAll { $0 == domain }
        }
        for node in state.nodes where !nodes[Int(node)].isRemoved {
            refresh(node, now: now)
        }
        let rate = state.failureRate(at: now.milliseconds, configuration: configuration.domains)
        return DomainFlip(domain: domain, throttled: state.isThrottled, failureRate: rate)
    }
}
