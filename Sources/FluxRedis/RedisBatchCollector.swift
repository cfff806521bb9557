import Synchronization

/// Gathers the replies of one `pipeline` call that was written in several parts, and resumes
/// its single continuation when the last part is complete (or fails it once, on the first
/// error).
///
/// Why parts: formatting a large batch takes about as long as Redis takes to run it, so
/// `pipeline` hands the first commands to the event loop while it formats the rest; Redis starts
/// working early and formatting overlaps with the server. Each part is its own entry in the
/// handler's FIFO, so requests of other callers may sit between parts without confusing replies.
/// Parts are delivered in FIFO order on the event loop; a failure may come from any thread
/// (closing the outbox), hence the lock — taken once per part, not per reply.
final class RedisBatchCollector: Sendable {
    private struct State {
        var replies: [RedisReply] = []
        var finished = false
    }

    private let continuation: CheckedContinuation<Result<[RedisReply], RedisError>, Never>
    private let expected: Int
    private let state = Mutex(State())

    init(expected: Int, continuation: CheckedContinuation<Result<[RedisReply], RedisError>, Never>) {
        self.expected = expected
        self.continuation = continuation
        state.withLock { $0.replies.reserveCapacity(expected) }
    }

    /// Adds the replies of the next part; resumes the caller with all of them after the last.
    func deliver(_ part: [RedisReply]) {
        let complete: [RedisReply]? = state.withLock { state in
            guard !state.finished else { return nil }
            state.replies.append(contentsOf: part)
            guard state.replies.count == expected else { return nil }
            state.finished = true
            defer { state.replies = [] }
            return state.replies
        }
        if let complete { continuation.resume(returning: .success(complete)) }
    }

    /// Fails the whole batch once; later parts and failures are ignored.
    func fail(_ error: RedisError) {
        let first = state.withLock { state in
            defer { state.finished = true; state.replies = [] }
            return !state.finished
        }
        if first { continuation.resume(returning: .failure(error)) }
    }
}
