import FluxCore
import FluxRedis

extension DriverLoop {
    /// How often the flush measures a Redis round trip, and how often the core hears the p99.
    static let latencyProbeIntervalMs: Int64 = 100
    static let overloadSignalIntervalMs: Int64 = 500

    /// Times one `PING` (at most every 100 ms) into the sliding window. A PING measures what a
    /// command waits for — the connection, Redis's queue, the network — independent of how many
    /// transitions a turn happens to write. A failure is a Redis outage like any other.
    mutating func probeLatency(nowMs: Int64) async {
        guard nowMs - lastLatencyProbeMs >= Self.latencyProbeIntervalMs else { return }
        lastLatencyProbeMs = nowMs
        let started = ContinuousClock.now
        do {
            _ = try await driver.redis.send(RedisCommand("PING"))
        } catch {
            driver.redisFailed(error)
            return
        }
        let elapsed = ContinuousClock.now - started
        latency.record(elapsed, atMs: nowMs)
        driver.metrics.redisLatency(elapsed, operation: "ping")
    }

    /// Feeds the core the latency p99 (every 500 ms); the core decides DEGRADED with hysteresis.
    mutating func signalOverload(nowMs: Int64) {
        guard nowMs - lastOverloadSignalMs >= Self.overloadSignalIntervalMs else { return }
        lastOverloadSignalMs = nowMs
        let signal = OverloadSignal(redisLatencyP99: latency.p99(nowMs: nowMs), redisReachable: true)
        apply(scheduler.handle(.overloadSignalled(signal), now: Timestamp(milliseconds: nowMs)), nowMs: nowMs)
    }
}
