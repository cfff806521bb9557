import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop. A task that prefers it
/// (`withTaskExecutorPreference`) runs on the same thread as its connection's I/O, so an awaited
/// round trip costs no thread hops at all: the request is written and the reply resumes the
/// task on the loop thread. Only for short, non-blocking work between commands — anything slow
/// run this way delays every connection on that loop.
final class RedisEventLoopExecutor: TaskExecutor, Sendable {
    private let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
