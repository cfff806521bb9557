import Synchronization

/// A test latch: set once, awaited with a bound so a broken test fails instead of hanging.
final class Flag: Sendable {
    private let isSet = Mutex(false)

    func set() { isSet.withLock { $0 = true } }

    var value: Bool { isSet.withLock { $0 } }

    func wait(upTo limit: Duration) async throws {
        try await eventually(upTo: limit) { value }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every 10 ms until it holds or `limit` passes (then throws).
func eventually(
    upTo limit: Duration = .seconds(10), _ what: String = "condition",
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    if try await condition() { return }
    throw TimedOut(description: "\(what) did not hold within \(limit)")
}
