import FluxRedis
import FluxRuntime
import Logging
import Synchronization

/// Redis's latency as Redis gives it, not as a busy shard sees it (issue 16): a PING every
/// `interval` on a connection of its own, on a timer of its own, outside the scheduler driver's
/// queue. Its p99 drives DEGRADED for `overload_redis_latency`; how long the driver's own work
/// waits (`SchedulerDriver`'s lag) drives `overload_shard`. A failed PING reports Redis down.
final class RedisLatencyProbe: Sendable {
    private let redis: any RedisBackend
    private let window = Mutex(LatencyWindow())
    let interval: Duration

    /// `redis` is a client of the probe's own to the shard's Redis (its own connection).
    init(redis: any RedisBackend, interval: Duration = .milliseconds(100)) {
        self.redis = redis
        self.interval = interval
    }

    /// The p99 of the round trips of the last 10 s; nil with fewer than 20 of them.
    func p99(nowMs: Int64) -> Duration? { window.withLock { $0.p99(nowMs: nowMs) } }

    /// Probes until cancelled; `failed` hears every error (the driver goes READ_ONLY on it).
    func run(metrics: ShardMetrics, failed: @Sendable (any Error) -> Void) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                _ = try await redis.send(RedisCommand("PING"))
                let elapsed = ContinuousClock.now - started
                window.withLock { $0.record(elapsed, atMs: WallClock.nowMs()) }
                metrics.redisLatency(elapsed, operation: "ping")
            } catch {
                failed(error)
            }
            try? await Task.sleep(for: interval)
        }
        await redis.close()
    }
}
