import FluxCore

/// Counters the simulator collects from decisions; all values are deterministic.
struct SimulationStats {
    var events = 0
    var decisions = 0
    var admitted = 0, rejected = 0, deferred = 0, shed = 0, succeeded = 0, failed = 0
    var suspended = 0, deadlineExceeded = 0, cancelled = 0, retries = 0, dispatches = 0
    /// Suspended tasks still held by the scheduler (the run ends when only they remain).
    var suspendedHeld = 0
    var rejectedByReason: [DecisionReason: Int] = [:]
    var modeChanges: [String] = []
    var domainThrottles = 0
    /// First quarantine time of each liar node; quarantines of honest nodes (outside the outage).
    var liarQuarantinedAt: [Int: Int64] = [:]
    var honestQuarantines = 0
    var outageQuarantines = 0
    var outageThrottledAt: Int64?
    /// Dispatches (into the failing zone, total) before the outage, during it before the zone was
    /// throttled, and during it after.
    var beforeOutage = (zone: 0, total: 0)
    var outageBeforeThrottle = (zone: 0, total: 0)
    var outageAfterThrottle = (zone: 0, total: 0)

    mutating func count(_ transition: TaskTransition) {
        decisions += 1
        switch transition.to {
        case .admitted where transition.from == .queued: admitted += 1
        case .rejected:
            rejected += 1
            rejectedByReason[transition.reason, default: 0] += 1
        case .deferred: deferred += 1
        case .shed: shed += 1
        case .succeeded: succeeded += 1
        case .failed: failed += 1
        case .suspended:
            suspended += 1
            suspendedHeld += 1
        case .deadlineExceeded: deadlineExceeded += 1
        case .cancelled: cancelled += 1
        case .retryWait: retries += 1
        case .dispatched: dispatches += 1
        default: break
        }
    }

    mutating func recordQuarantine(node: Int, liar: Bool, outage: Bool, at time: Int64) {
        if liar {
            if liarQuarantinedAt[node] == nil { liarQuarantinedAt[node] = time }
        } else if outage {
            outageQuarantines += 1
        } else {
            honestQuarantines += 1
        }
    }

    mutating func recordDispatch(zoneIsFailing: Bool, at time: Int64, outageEnabled: Bool) {
        let hit = zoneIsFailing ? 1 : 0
        if time < SimulationConfiguration.outageStart {
            beforeOutage.zone += hit
            beforeOutage.total += 1
        } else if time < SimulationConfiguration.outageEnd {
            if let throttled = outageThrottledAt, time >= throttled {
                outageAfterThrottle.zone += hit
                outageAfterThrottle.total += 1
            } else {
                outageBeforeThrottle.zone += hit
                outageBeforeThrottle.total += 1
            }
        }
    }
}
