import NIOCore
import Synchronization

/// The hand-off between callers (any thread) and the channel handler (its event loop).
/// Callers append encoded requests under a lock; the first append after a drain schedules one
/// drain on the loop, which takes everything queued, writes it and flushes once. So concurrent
/// callers share event-loop wake-ups and syscalls, and the order of bytes on the wire is the
/// order of entries in the handler's reply FIFO (both follow the order in this queue).
final class RedisOutbox: Sendable {
    private struct State {
        var requests: [RedisRequest] = []
        var drainScheduled = false
        /// Set once the channel is gone; from then on every request fails with this error.
        var closedError: RedisError?
        /// Dropped on close, which breaks the handler ↔ outbox reference cycle.
        var handler: NIOLoopBound<RedisChannelHandler>?
    }

    private let state = Mutex(State())

    init() {}

    func attach(_ handler: NIOLoopBound<RedisChannelHandler>) {
        state.withLock { $0.handler = handler }
    }

    /// Queues a request, or fails it at once if the connection is closed.
    func submit(_ request: RedisRequest) {
        enum Action { case none, drain(NIOLoopBound<RedisChannelHandler>), fail(RedisError) }
        let action: Action = state.withLock { state in
            if let error = state.closedError { return .fail(error) }
            guard let handler = state.handler else { return .fail(.connectionLost("not connected")) }
            state.requests.append(request)
            if state.drainScheduled { return .none }
            state.drainScheduled = true
            return .drain(handler)
        }
        switch action {
        case .none: break
        case .drain(let handler): handler.eventLoop.execute { handler.value.drainOutbox() }
        case .fail(let error): request.waiter.fail(Self.unwritten(error, request))
        }
    }

    /// `error` marked never sent when `request` is its caller's whole request. Only then: a part
    /// of a larger batch may fail here after earlier parts were written.
    static func unwritten(_ error: RedisError, _ request: RedisRequest) -> RedisError {
        request.replyCount == request.waiter.expected ? error.markedNeverSent() : error
    }

    /// Takes everything queued; called by the handler on its event loop.
    func takeRequests() -> [RedisRequest] {
        state.withLock { state in
            state.drainScheduled = false
            defer { state.requests = [] }
            return state.requests
        }
    }

    /// Marks the outbox closed and fails whatever was still queued. Idempotent: the first error
    /// wins, so callers learn why the connection really went away.
    func close(with error: RedisError) {
        let orphans: [RedisRequest] = state.withLock { state in
            if state.closedError == nil { state.closedError = error }
            state.handler = nil
            defer { state.requests = [] }
            return state.requests
        }
        for request in orphans { request.waiter.fail(Self.unwritten(error, request)) }
    }

    /// True once the connection is closed or lost; the pool then replaces it.
    var isClosed: Bool { state.withLock { $0.closedError != nil } }
}
