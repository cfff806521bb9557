/// Who is waiting for a request's replies. `abandoned` keeps a timed-out request's place in the
/// FIFO so its late replies are consumed and dropped without shifting anyone else's.
enum RedisWaiter: Sendable {
    case single(CheckedContinuation<Result<RedisReply, RedisError>, Never>)
    case batch(CheckedContinuation<Result<[RedisReply], RedisError>, Never>)
    /// One part of a batch written in several parts; its replies go to the shared collector.
    case batchPart(RedisBatchCollector)
    case abandoned

    /// Resumes the waiter with `error`. Callers make sure each waiter is resumed once by
    /// replacing it with `.abandoned` (or removing it) in the same step.
    func fail(_ error: RedisError) {
        switch self {
        case .single(let continuation): continuation.resume(returning: .failure(error))
        case .batch(let continuation): continuation.resume(returning: .failure(error))
        case .batchPart(let collector): collector.fail(error)
        case .abandoned: break
        }
    }

    var isWaiting: Bool {
        if case .abandoned = self { return false }
        return true
    }
}
