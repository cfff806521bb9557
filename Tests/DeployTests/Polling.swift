import FluxTesting

/// Polls `condition` every `interval` until it holds; past `timeout` throws, naming `what` and
/// what `describe` says of the last look (a log tail, the last reply).
func waitUntil(
    _ what: String, timeout: Duration, interval: Duration = .milliseconds(100),
    describe: () -> String = { "" }, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: interval)
    }
    throw HarnessError("\(what): not within \(timeout)\n\(describe())")
}
