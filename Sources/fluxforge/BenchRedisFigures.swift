/// One round's figures, or the best seen over several rounds.
struct BenchRedisFigures {
    var ping = BenchRedisWorkload.Result(operations: 0, elapsed: .seconds(1))
    var pingOnLoop = BenchRedisWorkload.Result(operations: 0, elapsed: .seconds(1))
    var xadd = BenchRedisWorkload.Result(operations: 0, elapsed: .seconds(1))
    var referencePing = 0.0
    var referenceXadd = 0.0

    var summary: String {
        String(format: "PING pool %.0f/s, loop %.0f/s, redis-benchmark %.0f/s (%.0f%%); XADD %.0f/s, redis-benchmark %.0f/s (%.0f%%), client CPU %.2f µs/XADD",
               ping.perSecond, pingOnLoop.perSecond, referencePing, 100 * ping.perSecond / referencePing,
               xadd.perSecond, referenceXadd, 100 * xadd.perSecond / referenceXadd, xadd.cpuMicrosecondsPerOperation)
    }

    mutating func keepBest(of other: BenchRedisFigures) {
        if other.ping.perSecond > ping.perSecond { ping = other.ping }
        if other.pingOnLoop.perSecond > pingOnLoop.perSecond { pingOnLoop = other.pingOnLoop }
        if other.xadd.perSecond > xadd.perSecond { xadd = other.xadd }
        referencePing = max(referencePing, other.referencePing)
        referenceXadd = max(referenceXadd, other.referenceXadd)
    }
}
