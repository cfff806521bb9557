import ArgumentParser
import FluxRedis
import Foundation

/// `fluxforge bench redis`: the FluxRedis client against `redis-benchmark` on the same server in
/// the same run, one connection each, so the ratio (not the absolute figure) is what to read.
struct BenchRedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Sequential PING round trips/s and pipelined XADD/s on one connection, next to redis-benchmark."
    )

    @Option(help: "Redis URL to benchmark against.")
    var url = "redis://127.0.0.1:6379/0"

    @Option(help: "Sequential PING round trips to time.")
    var requests = 100_000

    @Option(help: "XADD commands to send in pipelined batches.")
    var xaddRequests = 1_000_000

    @Option(help: "Commands per pipelined batch.")
    var pipeline = 1000

    @Option(help: "Rounds; each runs both clients, interleaved, and the best figure of each is kept (noisy hosts).")
    var rounds = 3

    func run() async throws {
        let configuration = try RedisConfiguration(url: url)
        let connection = try await RedisConnection.connect(configuration: configuration)
        let external = RedisBenchmarkRunner(configuration: connection.configuration)  // the master, with Sentinel
        let streamKey = "fluxforge:bench:\(UInt32.random(in: 0...UInt32.max))"
        _ = try await BenchRedisWorkload.sequentialPings(connection, count: min(requests, 5_000))  // warm-up
        var best = BenchRedisFigures()
        for round in 1...max(1, rounds) {
            var figures = BenchRedisFigures()
            figures.ping = try await BenchRedisWorkload.sequentialPings(connection, count: requests)
            figures.pingOnLoop = try await withTaskExecutorPreference(connection.taskExecutor) {
                try await BenchRedisWorkload.sequentialPings(connection, count: requests)
            }
            figures.xadd = try await BenchRedisWorkload.pipelinedXadds(connection, key: streamKey, count: xaddRequests, batch: pipeline)
            _ = try await connection.send(RedisCommand("DEL", streamKey))
            figures.referencePing = try external.run(["-c", "1", "-n", String(requests), "-t", "ping"], test: "PING_MBULK")
            figures.referenceXadd = try external.run(
                ["-c", "1", "-P", String(pipeline), "-n", String(xaddRequests), "xadd", "fluxforge:bench:rb", "*", "f", "v"],
                test: "xadd"
            )
            _ = try? external.cli(["DEL", "fluxforge:bench:rb"])
            print("round \(round): " + figures.summary)
            best.keepBest(of: figures)
        }
        await connection.close()
        printReport(best)
    }

    private func printReport(_ best: BenchRedisFigures) {
        func row(_ name: String, _ ours: Double, _ theirs: Double, _ target: Double) -> String {
            let ratio = ours / theirs
            let verdict = ratio >= target ? "ok" : "BELOW TARGET"
            return "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                + "\(format(ours).leftPad(12)) \(format(theirs).leftPad(12)) \(String(format: "%6.1f%%", ratio * 100)) "
                + "(target ≥ \(Int(target * 100))%: \(verdict))"
        }
        print("\nFluxRedis vs redis-benchmark, one connection each, best of \(rounds) interleaved rounds, \(url.redactingPassword)")
        print("\("operation".padding(toLength: 34, withPad: " ", startingAt: 0)) \("FluxRedis/s".leftPad(12)) \("redis-bench/s".leftPad(12))  ratio")
        print(row("sequential PING (caller on pool)", best.ping.perSecond, best.referencePing, 0.6))
        print(row("sequential PING (caller on loop)", best.pingOnLoop.perSecond, best.referencePing, 0.6))
        print(row("pipelined XADD (batch \(pipeline))", best.xadd.perSecond, best.referenceXadd, 0.5))
        for (name, result) in [("pool", best.ping), ("loop", best.pingOnLoop)] {
            let p50 = result.percentile(0.50), p99 = result.percentile(0.99)
            print("sequential PING latency (caller on \(name)): p50 \(String(format: "%.1f", p50)) µs, p99 \(String(format: "%.1f", p99)) µs")
        }
        print(String(format: "client CPU (all threads): %.2f µs per pooled-caller PING, %.2f µs per XADD",
                     best.ping.cpuMicrosecondsPerOperation, best.xadd.cpuMicrosecondsPerOperation))
        print("process RSS: \(ProcessMemory.residentMebibytes.map { String(format: "%.1f MiB", $0) } ?? "unknown")")
    }

    private func format(_ value: Double) -> String { String(format: "%.0f", value) }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    fileprivate var redactingPassword: String {
        guard let at = lastIndex(of: "@"), let scheme = range(of: "://") else { return self }
        return String(self[..<scheme.upperBound]) + "***" + String(self[at...])
    }
}
