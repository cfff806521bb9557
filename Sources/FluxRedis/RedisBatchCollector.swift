/// Gathers the replies of one `pipeline` call that was written in several parts, and resumes
/// its single continuation when the last reply is in (or fails it once, on the first error).
///
/// Why parts: formatting a large batch takes about as long as Redis takes to run it, so
/// `pipeline` hands the first commands to the event loop while it formats the rest; Redis starts
/// working early and formatting overlaps with the server. Each part is its own entry in the
/// handler's FIFO, so requests of other callers may sit between parts without confusing replies.
///
/// Thread-safety: created on the caller's thread before any part is submitted, then touched only
/// by the connection's handler on its event loop (parts are dispatched there, in FIFO order).
final class RedisBatchCollector: @unchecked Sendable {
    private let continuation: CheckedContinuation<Result<[RedisReply], RedisError>, Never>
    private let expected: Int
    private var replies: [RedisReply] = []
    private var finished = false

    init(expected: Int, continuation: CheckedContinuation<Result<[RedisReply], RedisError>, Never>) {
        self.expected = expected
        self.continuation = continuation
        replies.reserveCapacity(expected)
    }

    /// Adds the next reply in order; resumes the caller with all of them after the last one.
    func append(_ reply: RedisReply) {
        guard !finished else { return }
        replies.append(reply)
        if replies.count == expected {
            finished = true
            let all = replies
            replies = []
            continuation.resume(returning: .success(all))
        }
    }

    /// Fails the whole batch once; later replies and failures of its other parts are ignored.
    func fail(_ error: RedisError) {
        guard !finished else { return }
        finished = true
        replies = []
        continuation.resume(returning: .failure(error))
    }
}
