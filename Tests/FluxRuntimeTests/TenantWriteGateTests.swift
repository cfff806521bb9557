import FluxRuntime
import Synchronization
import Testing

/// Each tenant's turn at writing: a tenant waits behind its own writes, never behind another's.
@Suite("Tenant write gate")
struct TenantWriteGateTests {
    /// Holds a write open until released, and says when it started.
    final class HeldWrite: Sendable {
        private let started = AsyncStream<Void>.makeStream()
        private let release = AsyncStream<Void>.makeStream()
        private let ran = Mutex(false)

        func write() async {
            ran.withLock { $0 = true }
            started.continuation.yield()
            for await _ in release.stream { return }
        }

        func waitUntilStarted() async { for await _ in started.stream { return } }
        func finish() { release.continuation.yield() }
        var hasStarted: Bool { ran.withLock { $0 } }
    }

    @Test func aTenantWaitsBehindItsOwnWritesNotAnothers() async throws {
        let gate = TenantWriteGate(tasksInFlight: 150, maxWaiting: 8)
        let first = HeldWrite(), second = HeldWrite(), other = HeldWrite()
        let batch = Task { try await gate.withTurn(tenant: "flood", cost: 100) { await first.write() } }
        await first.waitUntilStarted()
        // 100 + 100 > 150: the flood's second batch waits for its first.
        let next = Task { try await gate.withTurn(tenant: "flood", cost: 100) { await second.write() } }
        try await waitFor { gate.waiting(tenant: "flood") == 1 }
        #expect(!second.hasStarted)
        // Another tenant goes at once, whatever the flood has in flight or waiting.
        let quiet = Task { try await gate.withTurn(tenant: "quiet", cost: 1) { await other.write() } }
        await other.waitUntilStarted()
        other.finish()
        try await quiet.value
        first.finish()
        try await batch.value
        await second.waitUntilStarted()
        second.finish()
        try await next.value
        #expect(gate.waiting(tenant: "flood") == 0)
    }

    @Test func aRequestLargerThanTheShareGoesAloneAndTheLineIsBounded() async throws {
        let gate = TenantWriteGate(tasksInFlight: 10, maxWaiting: 1)
        let big = HeldWrite(), small = HeldWrite()
        // Larger than the share: it goes when the tenant has nothing else in flight.
        let bigTask = Task { try await gate.withTurn(tenant: "a", cost: 1_000) { await big.write() } }
        await big.waitUntilStarted()
        let smallTask = Task { try await gate.withTurn(tenant: "a", cost: 1) { await small.write() } }
        try await waitFor { gate.waiting(tenant: "a") == 1 }
        // One waiting is the line's bound: the next is refused at once, without running.
        await #expect(throws: TenantWriteGate.LineFull.self) {
            try await gate.withTurn(tenant: "a", cost: 1) { Issue.record("a refused write ran") }
        }
        big.finish()
        try await bigTask.value
        await small.waitUntilStarted()
        small.finish()
        try await smallTask.value
    }

    @Test func noLimitMeansNoWaiting() async throws {
        let gate = TenantWriteGate(tasksInFlight: 0)
        let held = HeldWrite()
        let first = Task { try await gate.withTurn(tenant: "a", cost: 1_000) { await held.write() } }
        await held.waitUntilStarted()
        #expect(try await gate.withTurn(tenant: "a", cost: 1_000) { 7 } == 7)
        held.finish()
        try await first.value
    }

    /// Polls `condition` every millisecond for at most two seconds.
    private func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }
}
