import Synchronization

/// How many of one tenant's tasks this process writes to Redis at once; the rest wait their
/// turn here, first come first served, each tenant in its own line.
///
/// Why: Redis runs scripts one at a time in the order they arrive. Without a gate, a tenant with
/// 16 batches of 100 in flight puts 1,600 submit scripts in front of another tenant's single
/// one, and that tenant's submit → 202 grows with its neighbour's flood (`cluster/bench
/// --noisy`: p50 68 ms against 2.5 ms alone, 2026-12-02). With the gate, what one tenant has
/// queued in Redis ahead of anyone else is at most `tasksInFlight` scripts per router or shard.
/// A client's own throughput is not what it limits: 256 tasks in flight is more than a single
/// client keeps going, and batches still fill Redis's pipeline.
///
/// A request larger than the limit (a batch of 1,000) goes alone, when the tenant has nothing
/// else in flight. The line is bounded too: past `maxWaiting` requests a tenant's next one is
/// answered `429 writes_queued` at once, so a tenant cannot park unbounded bodies here.
public final class TenantWriteGate: Sendable {
    /// Tasks of one tenant being written at once (0: no gate).
    public let tasksInFlight: Int
    /// Requests of one tenant waiting for their turn before new ones are refused.
    public let maxWaiting: Int
    private let state = Mutex(State())

    private struct Waiter {
        var cost: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct Line {
        var inFlight = 0
        var waiting: [Waiter] = []
        var head = 0
        var waitingCount: Int { waiting.count - head }

        /// Whether `cost` more tasks may be written now: within the share, or alone.
        func fits(_ cost: Int, limit: Int) -> Bool { inFlight == 0 || inFlight + cost <= limit }

        /// Takes `cost` into flight when nobody waits ahead and it fits.
        mutating func enter(_ cost: Int, limit: Int) -> Bool {
            guard waitingCount == 0, fits(cost, limit: limit) else { return false }
            inFlight += cost
            return true
        }
    }

    private struct State {
        var lines: [String: Line] = [:]
    }

    /// The answer when a tenant's line is full.
    public struct LineFull: Error, Sendable {}

    public init(tasksInFlight: Int = 256, maxWaiting: Int = 64) {
        self.tasksInFlight = max(0, tasksInFlight)
        self.maxWaiting = max(0, maxWaiting)
    }

    /// Runs `body` once `cost` tasks of `tenant` fit in its share; throws `LineFull` at once when
    /// `maxWaiting` of the tenant's requests are already waiting.
    public func withTurn<T>(tenant: String, cost: Int, _ body: () async throws -> T) async throws -> T {
        guard tasksInFlight > 0 else { return try await body() }
        let cost = max(1, cost)
        let admitted: Bool? = state.withLock { state in
            var line = state.lines[tenant, default: Line()]
            defer { state.lines[tenant] = line }
            if line.enter(cost, limit: tasksInFlight) { return true }
            return line.waitingCount >= maxWaiting ? nil : false
        }
        switch admitted {
        case nil: throw LineFull()
        case false?:
            await withCheckedContinuation { continuation in
                let goesNow: Bool = state.withLock { state in
                    var line = state.lines[tenant, default: Line()]
                    defer { state.lines[tenant] = line }
                    // Whatever was in flight may have finished between the two locks.
                    if line.enter(cost, limit: tasksInFlight) { return true }
                    line.waiting.append(Waiter(cost: cost, continuation: continuation))
                    return false
                }
                if goesNow { continuation.resume() }
            }
        case true?: break
        }
        defer { finish(tenant: tenant, cost: cost) }
        return try await body()
    }

    /// Requests of `tenant` waiting now (tests, metrics).
    public func waiting(tenant: String) -> Int {
        state.withLock { $0.lines[tenant]?.waitingCount ?? 0 }
    }

    private func finish(tenant: String, cost: Int) {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard var line = state.lines[tenant] else { return [] }
            line.inFlight -= cost
            var woken: [CheckedContinuation<Void, Never>] = []
            // First come first served: the head goes when it fits (or alone); nobody overtakes it.
            while line.head < line.waiting.count {
                let next = line.waiting[line.head]
                guard line.fits(next.cost, limit: tasksInFlight) else { break }
                line.inFlight += next.cost
                woken.append(next.continuation)
                line.head += 1
            }
            if line.head == line.waiting.count {
                line.waiting.removeAll(keepingCapacity: false)
                line.head = 0
            }
            state.lines[tenant] = line.inFlight == 0 && line.waiting.isEmpty ? nil : line
            return woken
        }
        for continuation in woken { continuation.resume() }
    }
}
