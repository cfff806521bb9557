import Testing
@testable import FluxCore

@Suite struct PolicyTests {
    @Test func splitMixReferenceOutput() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func nominalSequences() {
        let none = BackoffPolicy(kind: .none, baseDelay: .seconds(5), maxAttempts: 3)
        let linear = BackoffPolicy(kind: .linear, baseDelay: .seconds(10), maxDelay: .seconds(35), maxAttempts: 9)
        let exponential = BackoffPolicy(kind: .exponential, baseDelay: .seconds(1), maxDelay: .seconds(30), maxAttempts: 9)
        #expect((1...4).map { none.nominalDelayMilliseconds(retry: $0) } == [0, 0, 0, 0])
        #expect((1...5).map { linear.nominalDelayMilliseconds(retry: $0) } == [10_000, 20_000, 30_000, 35_000, 35_000])
        #expect((1...7).map { exponential.nominalDelayMilliseconds(retry: $0) } == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
        #expect(exponential.nominalDelayMilliseconds(retry: 200) == 30_000)
    }

    @Test func jitterStaysWithinBoundsAndReplays() {
        let policy = BackoffPolicy(kind: .exponential, baseDelay: .seconds(4), maxDelay: .seconds(60), maxAttempts: 5, jitter: 0.25)
        var distinct = Set<Int64>()
        for seed in 0..<500 as Range<UInt64> {
            for retry in 1...4 {
                let nominal = policy.nominalDelayMilliseconds(retry: retry)
                let delay = policy.delayMilliseconds(retry: retry, seed: seed)
                #expect(delay <= nominal && Double(delay) >= Double(nominal) * 0.75, "seed \(seed) retry \(retry)")
                #expect(delay == policy.delayMilliseconds(retry: retry, seed: seed))
                if retry == 1 { distinct.insert(delay) }
            }
        }
        #expect(distinct.count > 100, "jitter should spread delays")
    }

    @Test func retryPolicyDefaultsPerKind() {
        let policy = RetryPolicy.default
        #expect(policy[.timeout].kind == .exponential)
        #expect(policy[.nonZeroExit].kind == .linear)
        #expect(policy[.nodeLost].kind == .none)
        #expect(policy[.agentRejected].maxAttempts == 5)
        #expect(RetryPolicy.noRetries[.timeout].maxAttempts == 1)
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 2, now: 0)
        #expect(bucket.available(now: 0) == 2)
        bucket.take(now: 0)
        bucket.take(now: 0)
        #expect(bucket.available(now: 0) == 0)
        #expect(bucket.available(now: 99) == 0)
        #expect(bucket.available(now: 100) == 1)
        #expect(bucket.available(now: 10_000) == 2)
    }
}
