public import Foundation

/// Runs CPU-bound test work (a simulation, a large property run) on a thread of its own and
/// awaits it. Swift Testing starts every test at once on a cooperative pool of one thread per
/// core; a synchronous simulation holding two threads for seconds starves every other test's
/// timers and startup waits on a two-core machine.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// `offThePool` for work that throws (a blocking child process, say); the error is rethrown
/// here. Expectations belong after it, in the test's own task.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await offThePool { () -> Result<T, any Error> in Result { try body() } }.get()
}
