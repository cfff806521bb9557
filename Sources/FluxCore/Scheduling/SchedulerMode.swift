/// The scheduler's self-protection mode (docs/scheduler-design.md).
public enum SchedulerMode: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Everything admitted subject to limits.
    case normal = "NORMAL"
    /// Overload: P4–P10 of the tenants at or over their share are refused at the door; when the
    /// waiting queue is near its bound (or an operator chose it) they are also shed at admission.
    case degraded = "DEGRADED"
    /// Redis unreachable or operator's choice: submissions rejected, reads still served.
    case readOnly = "READ_ONLY"

    public var description: String { rawValue }

    /// Numeric value for the `flux_scheduler_mode` gauge: 0, 1, 2.
    public var gaugeValue: Int {
        switch self {
        case .normal: 0
        case .degraded: 1
        case .readOnly: 2
        }
    }
}

/// What the runtime knows about its own health; drives automatic DEGRADED and READ_ONLY.
public struct OverloadSignal: Hashable, Sendable {
    /// Recent Redis command latency p99, if measured.
    public var redisLatencyP99: Duration?
    /// False when Redis cannot be reached: the scheduler goes READ_ONLY until it can.
    public var redisReachable: Bool
    /// How long the shard's own work waits before it is handled (p99), if measured: a busy
    /// shard, told apart from a slow Redis (issue 16).
    public var shardLagP99: Duration?

    /// Creates a signal.
    public init(redisLatencyP99: Duration? = nil, redisReachable: Bool = true, shardLagP99: Duration? = nil) {
        self.redisLatencyP99 = redisLatencyP99
        self.redisReachable = redisReachable
        self.shardLagP99 = shardLagP99
    }
}

/// The mode state machine. Inputs: queue depth (each tick), the overload signal, the manual
/// override. The manual override wins until cleared; otherwise READ_ONLY while Redis is
/// unreachable, else DEGRADED while depth, Redis latency or the shard's own lag is high (each
/// with hysteresis), else NORMAL.
struct ModeController: Hashable, Sendable {
    private(set) var override: SchedulerMode?
    private(set) var depthHigh = false
    private(set) var latencyHigh = false
    private(set) var shardBusy = false
    private(set) var redisUnreachable = false
    private(set) var current: SchedulerMode = .normal

    mutating func setOverride(_ mode: SchedulerMode?) -> ModeChange? {
        override = mode
        return settle(reason: mode == nil ? .overrideCleared : .manualOverride)
    }

    mutating func observeDepth(waiting: Int, configuration c: SchedulerConfiguration) -> ModeChange? {
        let capacity = Double(c.maxWaitingTasks)
        let level = Double(waiting)
        if !depthHigh && level > c.degradedHighWater * capacity {
            depthHigh = true
        } else if depthHigh && level < c.degradedLowWater * capacity {
            depthHigh = false
        } else {
            return nil
        }
        return settle(reason: depthHigh ? .overloadQueueDepth : .overloadCleared)
    }

    mutating func observe(_ signal: OverloadSignal, configuration c: SchedulerConfiguration) -> ModeChange? {
        redisUnreachable = !signal.redisReachable
        if let latency = signal.redisLatencyP99 {
            if !latencyHigh && latency > c.degradeAboveRedisLatency {
                latencyHigh = true
            } else if latencyHigh && latency < c.recoverBelowRedisLatency {
                latencyHigh = false
            }
        }
        if let lag = signal.shardLagP99 {
            if !shardBusy && lag > c.degradeAboveShardLag {
                shardBusy = true
            } else if shardBusy && lag < c.degradeAboveShardLag / 2 {
                shardBusy = false
            }
        }
        let reason: DecisionReason = redisUnreachable ? .redisUnreachable
            : (latencyHigh ? .overloadRedisLatency : (shardBusy ? .overloadShard : .overloadCleared))
        return settle(reason: reason)
    }

    /// True while DEGRADED also rejects P4–P10 that were already accepted (at admission): the
    /// waiting set is near `maxWaitingTasks`, its memory bound, or an operator asked for
    /// DEGRADED. A slow Redis or a busy shard only closes the door (the driver refuses new
    /// submissions, `Backpressure`): rejecting work already written does not slow a flood down —
    /// the batch flood of issue 16 went on being accepted at 5,565 tasks/s while its accepted
    /// tasks were rejected — and it breaks the promise of the 202 the client was given.
    var rejectsAcceptedWork: Bool { current == .degraded && (override == .degraded || depthHigh) }

    /// Applies the precedence rule; returns the new mode if it changed.
    private mutating func settle(reason: DecisionReason) -> ModeChange? {
        let next: SchedulerMode
        if let override {
            next = override
        } else if redisUnreachable {
            next = .readOnly
        } else if depthHigh || latencyHigh || shardBusy {
            next = .degraded
        } else {
            next = .normal
        }
        guard next != current else { return nil }
        defer { current = next }
        return ModeChange(from: current, to: next, reason: reason)
    }
}

/// A change of mode and its cause.
struct ModeChange: Hashable, Sendable {
    var from: SchedulerMode
    var to: SchedulerMode
    var reason: DecisionReason
}
