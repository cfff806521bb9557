import FluxRedis
import FluxRuntime
import Glibc

/// The timed loops of `fluxforge bench redis`, each on one connection.
enum BenchRedisWorkload {
    struct Result {
        var operations: Int
        var elapsed: Duration
        /// Per-operation latencies in microseconds (sequential runs only).
        var latencies: [Double] = []
        /// CPU time this process (all threads) used during the run: a load-independent measure
        /// of the client's own cost.
        var cpuSeconds = 0.0

        var cpuMicrosecondsPerOperation: Double { cpuSeconds * 1e6 / Double(max(operations, 1)) }

        var perSecond: Double { Double(operations) / elapsed.seconds }

        func percentile(_ fraction: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        }
    }

    /// `count` PINGs, each awaited before the next is sent.
    static func sequentialPings(_ connection: RedisConnection, count: Int) async throws -> Result {
        let clock = ContinuousClock()
        let ping = RedisCommand("PING")
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        let start = clock.now
        let cpuStart = processCPUSeconds()
        for _ in 0..<count {
            let sent = clock.now
            let reply = try await connection.send(ping)
            latencies.append((clock.now - sent).seconds * 1e6)
            precondition(reply == .simpleString("PONG"), "unexpected PING reply \(reply)")
        }
        return Result(operations: count, elapsed: clock.now - start, latencies: latencies,
                      cpuSeconds: processCPUSeconds() - cpuStart)
    }

    /// `count` `XADD key * f v`, sent as `pipeline` calls of `batch` commands, one batch in
    /// flight at a time (like `redis-benchmark -c 1 -P batch`). Commands are built per batch, as
    /// a real producer would.
    static func pipelinedXadds(_ connection: RedisConnection, key: String, count: Int, batch: Int) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = processCPUSeconds()
        var sent = 0
        while sent < count {
            let size = min(batch, count - sent)
            let commands = (0..<size).map { _ in RedisCommand("XADD", key, "*", "f", "v") }
            let replies = try await connection.pipeline(commands)
            precondition(replies.count == size && replies.allSatisfy { $0.bytes != nil }, "XADD failed: \(replies.first!)")
            sent += size
        }
        return Result(operations: count, elapsed: clock.now - start, cpuSeconds: processCPUSeconds() - cpuStart)
    }
}

/// User plus system CPU time of this process (all threads, not children).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
