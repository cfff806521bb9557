import NIOCore

/// Encoded bytes for one command or one batch, with the continuation waiting for its reply.
/// Built on the caller's thread, handed to the event loop through `RedisOutbox`.
struct RedisRequest: Sendable {
    /// RESP bytes of every command in the request, written in one go.
    var bytes: ByteBuffer
    /// How many replies this request's bytes produce: 1 for `send`, N for a batch (or part).
    var replyCount: Int
    var waiter: RedisWaiter
    /// How long after it is written the request may wait for its last reply.
    var timeout: TimeAmount
}

/// A request that has been written and awaits replies, in the handler's FIFO.
struct RedisPendingRequest {
    let waiter: RedisWaiter
    let replyCount: Int
    let deadline: NIODeadline
}
