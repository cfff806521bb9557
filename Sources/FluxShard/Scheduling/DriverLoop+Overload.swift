import FluxCore
import FluxRuntime

extension DriverLoop {
    /// How often the core hears the overload signal.
    static let overloadSignalIntervalMs: Int64 = 500

    /// Feeds the core (every 500 ms) Redis's latency p99, measured by the driver's own probe on
    /// its own connection, and the shard's lag p99, how long posted work waited for a turn: a
    /// slow Redis and a saturated shard degrade for their own reasons (the core decides, with
    /// hysteresis).
    mutating func signalOverload(nowMs: Int64) {
        guard nowMs - lastOverloadSignalMs >= Self.overloadSignalIntervalMs else { return }
        lastOverloadSignalMs = nowMs
        let shardLag = lag.p99(nowMs: nowMs)
        if let shardLag { driver.metrics.shardLag.record(shardLag.seconds) }
        let signal = OverloadSignal(redisLatencyP99: driver.redisProbe.p99(nowMs: nowMs), redisReachable: true, shardLagP99: shardLag)
        apply(scheduler.handle(.overloadSignalled(signal), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
    }
}
