import Logging
import NIOCore

/// The whole protocol engine of one connection, in one handler on the channel's event loop:
/// it writes requests taken from the outbox, feeds received bytes to hiredis, and hands each
/// reply to the oldest pending request (Redis answers in order). Decoding and dispatch happen
/// in the same `channelRead`, so no reply is boxed into `NIOAny` or passed down a pipeline.
///
/// Invariants: `pending` holds written requests in wire order, and an entry leaves it only when
/// all its replies have arrived (or the channel is gone), even if its caller was already failed
/// by a timeout or cancellation — so late replies never shift anyone else's. A `RedisWaiter`
/// resumes its caller exactly once. Once the channel is inactive, `pending` is empty and the
/// outbox is closed, so no caller can hang.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let outbox = RedisOutbox()
    private let reader = HiredisReader()
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var pending = RedisPendingQueue()
    /// Replies received so far for the head of `pending` (a batch collects them here).
    private var headReplies: [RedisReply] = []
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// Why the channel is going away, when we know better than "the peer closed".
    private var closeReason: RedisError?

    init(logger: Logger) {
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbox.attach(NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failEverything(closeReason ?? .connectionLost("the Redis handler was removed"))
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        failEverything(closeReason ?? .connectionLost("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil { closeReason = .connectionLost("connection error: \(error)") }
        logger.debug("redis connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Closes the channel on the owner's behalf; pending and later callers get `reason`.
    func close(reason: RedisError) {
        if closeReason == nil { closeReason = reason }
        outbox.close(with: closeReason ?? reason)
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try reader.feed(buffer)
            while let reply = try reader.next() {
                try dispatch(reply)
            }
        } catch {
            logger.error("redis protocol error, closing", metadata: ["error": "\(error)"])
            close(reason: error)
        }
    }

    /// Writes everything the outbox holds with a single flush.
    func drainOutbox() {
        let requests = outbox.takeRequests()
        guard let context else {
            let error = closeReason ?? .connectionLost("the connection is gone")
            for request in requests { request.waiter.fail(RedisOutbox.unwritten(error, request)) }
            return
        }
        let now = NIODeadline.now()
        var earliest: NIODeadline?
        for request in requests {
            let deadline = now + request.timeout
            pending.append(RedisPendingRequest(waiter: request.waiter, replyCount: request.replyCount, deadline: deadline))
            earliest = min(earliest ?? deadline, deadline)
            context.write(wrapOutboundOut(request.bytes), promise: nil)
        }
        context.flush()
        if let earliest { armTimer(at: earliest) }
    }

    private func dispatch(_ reply: RedisReply) throws(RedisError) {
        guard !pending.isEmpty else {
            throw RedisError(code: .protocolError, message: "reply with no command pending: \(reply)")
        }
        let head = pending[pending.headIndex]
        if head.replyCount == 1, head.waiter.expected == 1 {
            popHead()
            head.waiter.deliver(single: reply)
            return
        }
        if headReplies.isEmpty { headReplies.reserveCapacity(head.replyCount) }
        headReplies.append(reply)
        guard headReplies.count == head.replyCount else { return }
        let replies = headReplies
        headReplies = []
        popHead()
        head.waiter.deliver(replies)
    }

    private func popHead() {
        pending.removeFirst()
    }

    private func failEverything(_ error: RedisError) {
        outbox.close(with: error)
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        let requests = pending.removeAll()
        headReplies = []
        for request in requests { request.waiter.fail(error) }
    }
}

extension RedisChannelHandler {
    /// One timer serves every pending request: it fires at the earliest deadline, times out
    /// whatever is overdue, and re-arms for the next. Requests only move the timer earlier.
    private func armTimer(at deadline: NIODeadline) {
        if let timerDeadline, timerDeadline <= deadline { return }
        guard let context else { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            sweepTimeouts()
        }
    }

    private func sweepTimeouts() {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        var next: NIODeadline?
        for index in pending.indices {
            let request = pending[index]
            guard !request.waiter.isFinished else { continue }
            if request.deadline <= now {
                request.waiter.fail(Self.timeoutError(request))
            } else {
                next = min(next ?? request.deadline, request.deadline)
            }
        }
        if let next { armTimer(at: next) }
    }

    private static func timeoutError(_ request: RedisPendingRequest) -> RedisError {
        let what = request.waiter.expected == 1 ? "the command" : "a pipeline of \(request.waiter.expected) commands"
        return RedisError(code: .timeout, message: "no reply to \(what) before its deadline")
    }
}
