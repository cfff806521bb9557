import Logging
import NIOCore

/// The whole protocol engine of one connection, in one handler on the channel's event loop:
/// it writes requests taken from the outbox, feeds received bytes to hiredis, and hands each
/// reply to the oldest pending request (Redis answers in order). Decoding and dispatch happen
/// in the same `channelRead`, so no reply is boxed into `NIOAny` or passed down a pipeline.
///
/// Invariants: `pending` holds written requests in wire order; a waiter is resumed exactly once
/// (it is replaced by `.abandoned` or removed in the same step); once the channel is inactive,
/// `pending` is empty and the outbox is closed, so no caller can hang.
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
    private var headReceived = 0
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
            for request in requests { request.waiter.fail(closeReason ?? .connectionLost("the connection is gone")) }
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
        let head = pending.headIndex
        headReceived += 1
        let complete = headReceived == pending[head].replyCount
        switch pending[head].waiter {
        case .single(let continuation):
            popHead()
            continuation.resume(returning: .success(reply))
        case .batch(let continuation):
            headReplies.append(reply)
            guard complete else { return }
            let replies = headReplies
            headReplies = []
            popHead()
            continuation.resume(returning: .success(replies))
        case .batchPart(let collector):
            headReplies.append(reply)
            guard complete else { return }
            let replies = headReplies
            headReplies = []
            popHead()
            collector.deliver(replies)
        case .abandoned:
            if complete { popHead() }
        }
    }

    private func popHead() {
        pending.removeFirst()
        headReceived = 0
        if !headReplies.isEmpty { headReplies = [] }
    }

    private func failEverything(_ error: RedisError) {
        outbox.close(with: error)
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        let requests = pending.removeAll()
        headReplies = []
        headReceived = 0
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
        for index in pending.indices where pending[index].waiter.isWaiting {
            let request = pending[index]
            if request.deadline <= now {
                pending[index].waiter = .abandoned
                request.waiter.fail(Self.timeoutError(request))
            } else {
                next = min(next ?? request.deadline, request.deadline)
            }
        }
        if let next { armTimer(at: next) }
    }

    private static func timeoutError(_ request: RedisPendingRequest) -> RedisError {
        let what = request.replyCount == 1 ? "the command" : "a pipeline of \(request.replyCount) commands"
        return RedisError(code: .timeout, message: "no reply to \(what) before its deadline")
    }
}
