/// The body of `PUT /v1/admin/scheduler/mode`: `{"mode": "NORMAL" | "DEGRADED" | "READ_ONLY" | null,
/// "shard": "<id>"}`.
///
/// `null` clears the operator's override (the automatic triggers decide again). The key must be
/// present: an empty object is a mistake, not a request to clear. `shard` (optional) names the
/// one shard to set: through the router, without it, every live shard is set.
public struct SchedulerModeRequest: Codable, Sendable, Hashable {
    /// The forced mode, or nil to clear the override.
    public var mode: String?
    /// The one shard to set (nil: every shard the request reaches).
    public var shard: String?

    /// Modes an operator may force.
    public static let modes = ["NORMAL", "DEGRADED", "READ_ONLY"]

    enum CodingKeys: String, CodingKey, CaseIterable { case mode, shard }

    public init(mode: String?, shard: String? = nil) {
        self.mode = mode
        self.shard = shard
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.mode) else {
            throw APIProblem(code: "missing_field", message: "mode is required (null clears the override)", field: "mode")
        }
        mode = try container.decodeNil(forKey: .mode) ? nil : container.decode(String.self, forKey: .mode)
        shard = try container.decodeIfPresent(String.self, forKey: .shard)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
        try container.encodeIfPresent(shard, forKey: .shard)
    }

    /// The mode must be one of `modes` (or null).
    public func validate() throws(APIProblem) {
        if let mode, !Self.modes.contains(mode) {
            throw .invalid("mode", "must be one of \(Self.modes.joined(separator: ", ")) or null")
        }
        if let shard { try NameRules.validate(shard, field: "shard") }
    }
}

/// The scheduler's mode and what drives it (answer of the mode PUT, part of the debug snapshot).
public struct SchedulerModeView: Codable, Sendable, Hashable {
    /// NORMAL, DEGRADED or READ_ONLY.
    public var mode: String
    /// The operator's override, if one is set.
    public var override: String?
    /// Automatic triggers active now.
    public var queueDepthHigh: Bool
    public var redisLatencyHigh: Bool
    public var redisUnreachable: Bool
    /// Redis command latency p99 over the driver's sliding window, in ms (nil before enough samples).
    public var redisLatencyP99Ms: Double?
    /// The shard's own lag (how long its work waits for the scheduler's turn) is above its
    /// threshold: DEGRADED for `overload_shard`.
    public var shardOverloaded: Bool = false
    /// That lag's p99 over the last 10 s, in ms (nil before enough samples).
    public var shardLagP99Ms: Double?

    public init(
        mode: String, override: String?, queueDepthHigh: Bool, redisLatencyHigh: Bool, redisUnreachable: Bool,
        redisLatencyP99Ms: Double?
    ) {
        self.mode = mode
        self.override = override
        self.queueDepthHigh = queueDepthHigh
        self.redisLatencyHigh = redisLatencyHigh
        self.redisUnreachable = redisUnreachable
        self.redisLatencyP99Ms = redisLatencyP99Ms
    }
}

/// The router's answer to `PUT /v1/admin/scheduler/mode`: the mode of each shard it set, and
/// why any it could not reach was left as it was.
public struct ClusterModeView: Codable, Sendable, Hashable {
    /// By shard id.
    public var shards: [String: SchedulerModeView]
    /// Shard id → why it was not set (`answered 503`, `notSent`, …).
    public var unreachable: [String: String]

    public init(shards: [String: SchedulerModeView], unreachable: [String: String]) {
        self.shards = shards
        self.unreachable = unreachable
    }
}
