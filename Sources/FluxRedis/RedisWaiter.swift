import Synchronization

/// The caller waiting for one `send` or one `pipeline` call, shared by every FIFO entry written
/// for it (a large batch is written in several parts, see `RedisConnection.pipeline`). It
/// resumes its continuation exactly once: with all replies when the last part is delivered, or
/// with the first error — a dropped connection, the deadline, or the caller's task being
/// cancelled. After that, replies still owed by the server keep arriving at their FIFO entries
/// and are dropped here, so they never shift the replies of later requests.
///
/// Parts are delivered in FIFO order on the event loop; failures may come from any thread
/// (outbox close, cancellation), hence the lock — taken once per part, not per reply.
final class RedisWaiter: Sendable {
    enum Continuation: Sendable {
        case single(CheckedContinuation<Result<RedisReply, RedisError>, Never>)
        case batch(CheckedContinuation<Result<[RedisReply], RedisError>, Never>)
    }

    private struct State {
        var continuation: Continuation?
        var replies: [RedisReply] = []
        var finished = false
        /// A failure that came before the continuation was attached (an early cancellation).
        var earlyError: RedisError?
    }

    /// Replies that complete the request, over all its parts.
    let expected: Int
    private let state = Mutex(State())

    init(expected: Int) {
        self.expected = expected
    }

    /// Attaches the caller's continuation. Returns false (and resumes it at once) if the waiter
    /// already failed, in which case the request must not be sent.
    func attach(_ continuation: Continuation) -> Bool {
        let early: RedisError? = state.withLock { state in
            if let error = state.earlyError { return error }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        Self.resume(continuation, with: .failure(early))
        return false
    }

    /// True once the caller has been resumed; later replies are dropped.
    var isFinished: Bool { state.withLock { $0.finished || $0.earlyError != nil } }

    /// Completes a one-reply request without building an array (the `send` fast path).
    func deliver(single reply: RedisReply) {
        let continuation: Continuation? = state.withLock { state in
            guard !state.finished, let continuation = state.continuation else { return nil }
            state.finished = true
            return continuation
        }
        switch continuation {
        case .single(let single): single.resume(returning: .success(reply))
        case .batch(let batch): batch.resume(returning: .success([reply]))
        case nil: break
        }
    }

    /// Adds the replies of the next part; resumes the caller after the last one.
    func deliver(_ part: [RedisReply]) {
        let ready: (Continuation, [RedisReply])? = state.withLock { state in
            guard !state.finished, let continuation = state.continuation else { return nil }
            if state.replies.isEmpty, part.count == expected {
                state.finished = true
                return (continuation, part)
            }
            if state.replies.isEmpty { state.replies.reserveCapacity(expected) }
            state.replies.append(contentsOf: part)
            guard state.replies.count == expected else { return nil }
            state.finished = true
            defer { state.replies = [] }
            return (continuation, state.replies)
        }
        if let (continuation, replies) = ready { Self.resume(continuation, with: .success(replies)) }
    }

    /// Fails the request once; later parts and failures are ignored.
    func fail(_ error: RedisError) {
        let continuation: Continuation? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.replies = []
            if state.continuation == nil { state.earlyError = error }
            return state.continuation
        }
        if let continuation { Self.resume(continuation, with: .failure(error)) }
    }

    private static func resume(_ continuation: Continuation, with result: Result<[RedisReply], RedisError>) {
        switch continuation {
        case .single(let single): single.resume(returning: result.map { $0[0] })
        case .batch(let batch): batch.resume(returning: result)
        }
    }
}
