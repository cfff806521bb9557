/// A token bucket in integer milli-tokens: `ratePerSecond` tokens per second up to `burst`.
///
/// Integer arithmetic keeps it exact and replayable; refill is computed lazily from `now`.
struct TokenBucket: Hashable, Sendable {
    private let ratePerSecond: Int64
    private let burstMilliTokens: Int64
    private var milliTokens: Int64
    private var updatedAt: Int64

    init(ratePerSecond: Int, burst: Int, now: Int64) {
        self.ratePerSecond = Int64(max(0, ratePerSecond))
        burstMilliTokens = Int64(max(1, burst)) * 1000
        milliTokens = burstMilliTokens
        updatedAt = now
    }

    /// Whole tokens available at `now`.
    func available(now: Int64) -> Int {
        Int(refilled(now: now) / 1000)
    }

    /// Takes one token (callers check `available` first).
    mutating func take(now: Int64) {
        milliTokens = refilled(now: now) - 1000
        updatedAt = max(updatedAt, now)
    }

    /// Starts a throttle period with a single token, so the first dispatch can probe the domain.
    mutating func reset(now: Int64) {
        milliTokens = min(burstMilliTokens, 1000)
        updatedAt = now
    }

    private func refilled(now: Int64) -> Int64 {
        guard now > updatedAt else { return milliTokens }
        // tokens/s × ms = milli-tokens.
        let gained = (now - updatedAt).multipliedReportingOverflow(by: ratePerSecond)
        return gained.overflow ? burstMilliTokens : min(burstMilliTokens, milliTokens + gained.partialValue)
    }
}
