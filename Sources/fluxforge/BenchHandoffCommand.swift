import ArgumentParser
import FluxRedis
import FluxRuntime
import Foundation

/// `fluxforge bench handoff`: watches every slot lease in Redis (a pipelined read every few ms)
/// while an operator adds, stops or kills a shard, and reports how long each slot that changed
/// hands had no owner, and how long the whole move took. It only reads Redis, so it measures the
/// cluster as a client would see it.
struct BenchHandoffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handoff", abstract: "Time how long slots are unowned while they change hands (run it, then add or stop a shard).")

    @OptionGroup var target: RedisTarget

    @Option(help: "Milliseconds between two reads of the leases.")
    var intervalMs = 5

    @Option(help: "Give up after this many seconds.")
    var timeout = 60

    @Option(help: "Report once no lease changed for this many milliseconds after the first change.")
    var quietMs = 3_000

    func run() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: target.redis))
        defer { Task { await redis.close() } }
        let clock = ContinuousClock()
        let start = clock.now
        var holders = try await Self.read(redis, slots: target.slots)
        var releasedAt: [Int: ContinuousClock.Instant] = [:]
        var gaps: [Int: Duration] = [:]
        var moves: [Int: (from: String, to: String)] = [:]
        var firstChange: ContinuousClock.Instant?
        var lastChange: ContinuousClock.Instant?
        print("watching \(target.slots) slot leases every \(intervalMs) ms; now add, stop or kill a shard")
        while clock.now - start < .seconds(timeout) {
            try await Task.sleep(for: .milliseconds(intervalMs))
            let now = clock.now
            let current = try await Self.read(redis, slots: target.slots)
            for slot in 0..<target.slots where current[slot] != holders[slot] {
                firstChange = firstChange ?? now
                lastChange = now
                switch (holders[slot], current[slot]) {
                case (let old?, nil):
                    releasedAt[slot] = now
                    moves[slot] = (old, "")
                case (let old, let new?):
                    gaps[slot] = releasedAt[slot].map { now - $0 } ?? .zero
                    moves[slot] = (moves[slot]?.from ?? old ?? "", new)
                default: break
                }
            }
            holders = current
            if let lastChange, now - lastChange > .milliseconds(quietMs), releasedAt.keys.allSatisfy({ gaps[$0] != nil }) { break }
        }
        let sorted = gaps.values.sorted()
        guard let firstChange, let lastChange, !sorted.isEmpty else {
            print("no slot changed hands within \(timeout) s")
            return
        }
        func ms(_ duration: Duration) -> String { String(format: "%.0f ms", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1_000) }
        let byRoute = Dictionary(grouping: moves.filter { gaps[$0.key] != nil }.values, by: { "\($0.from.isEmpty ? "(none)" : $0.from) → \($0.to)" })
        print("\(sorted.count) slots changed hands: " + byRoute.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", "))
        print("unowned per slot: p50 \(ms(sorted[sorted.count / 2])), p99 \(ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])), max \(ms(sorted.last!)) (resolution \(intervalMs) ms)")
        print("first change to last change: \(ms(lastChange - firstChange))")
        unownedLeft(releasedAt: releasedAt, gaps: gaps)
    }

    private func unownedLeft(releasedAt: [Int: ContinuousClock.Instant], gaps: [Int: Duration]) {
        let left = releasedAt.keys.filter { gaps[$0] == nil }
        if !left.isEmpty { print("\(left.count) slots still unowned at the end: \(left.sorted().prefix(20))") }
    }

    /// Each slot's lease holder, or nil.
    static func read(_ redis: RedisClient, slots: Int) async throws -> [String?] {
        let values = try await SlotLeases.readAll(redis: redis, slotCount: slots)
        return (0..<slots).map { values[$0].flatMap(SlotLeases.parse)?.holder }
    }
}
