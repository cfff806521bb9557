/// The body of `PUT /v1/admin/scheduler/mode`: `{"mode": "NORMAL" | "DEGRADED" | "READ_ONLY" | null}`.
///
/// `null` clears the operator's override (the automatic triggers decide again). The key must be
/// present: an empty object is a mistake, not a request to clear.
public struct SchedulerModeRequest: Codable, Sendable, Hashable {
    /// The forced mode, or nil to clear the override.
    public var mode: String?

    /// Modes an operator may force.
    public static let modes = ["NORMAL", "DEGRADED", "READ_ONLY"]

    enum CodingKeys: String, CodingKey, CaseIterable { case mode }

    public init(mode: String?) { self.mode = mode }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.mode) else {
            throw APIProblem(code: "missing_field", message: "mode is required (null clears the override)", field: "mode")
        }
        mode = try container.decodeNil(forKey: .mode) ? nil : container.decode(String.self, forKey: .mode)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
    }

    /// The mode must be one of `modes` (or null).
    public func validate() throws(APIProblem) {
        if let mode, !Self.modes.contains(mode) {
            throw .invalid("mode", "must be one of \(Self.modes.joined(separator: ", ")) or null")
        }
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
