import FluxAPI
public import Logging

/// One edge agent: keeps a session open to the router (reconnecting forever with capped backoff),
/// runs dispatched attempts up to its capacity, and reports their results until acknowledged.
///
/// `run()` returns only after `shutdown()` (or cancellation of the calling task): new work is
/// refused, running attempts get `shutdownGracePeriod` to finish, stragglers are killed, pending
/// results get a short chance to be acknowledged, then the session is closed.
public final class Agent: Sendable {
    /// What the agent was started with.
    public let configuration: AgentConfiguration
    let logger: Logger
    let executor: TaskExecutor
    let core: AgentCore
    let work: AsyncStream<AgentMessage.Dispatch>
    /// Renews the certificate over the session (`wss://` with an enrolled identity only).
    let renewer: CertificateRenewer?
    let shutdownRequested = OneShot<Void>()
    let stopped = OneShot<Void>()

    /// Builds an idle agent; nothing connects or runs until `run()`. Every log line carries
    /// `node` and `tenant` metadata.
    public init(configuration: AgentConfiguration, logger: Logger) {
        var logger = logger
        logger[metadataKey: "node"] = .string(configuration.node)
        logger[metadataKey: "tenant"] = .string(configuration.tenant)
        self.configuration = configuration
        self.logger = logger
        self.executor = TaskExecutor(node: configuration.node, outputTailBytes: configuration.outputTailBytes)
        let (work, continuation) = AsyncStream.makeStream(of: AgentMessage.Dispatch.self)
        self.work = work
        self.core = AgentCore(
            machine: AgentStateMachine(configuration: configuration), work: continuation, logger: logger)
        self.renewer = configuration.identity.map {
            CertificateRenewer(files: $0, tenant: configuration.tenant, node: configuration.node, logger: logger)
        }
    }

    /// Runs the agent until `shutdown()` completes or the calling task is cancelled (which skips
    /// the grace period: running attempts are killed at once).
    public func run() async {
        if configuration.identity == nil {
            logger.warning("INSECURE dev-mode token auth: the agent token travels in the hello frame; use mTLS in production")
        }
        logger.info("agent starting", metadata: ["url": .string(configuration.url), "capacity": .stringConvertible(configuration.capacity)])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.runTasks() }
            group.addTask { await self.runSessions() }
            _ = await shutdownRequested.wait()
            await drain()
            stopped.fire(())
            core.stopSessions()
            core.finishWork()
            await group.waitForAll()
        }
        logger.info("agent stopped")
    }

    /// Begins a graceful shutdown; `run()` returns once it is complete. Safe to call repeatedly.
    public func shutdown() {
        guard shutdownRequested.fire(()) else { return }
        core.beginShutdown()
    }

    /// Number of attempts running now.
    public var runningCount: Int { core.runningCount }

    /// Number of results waiting for the server's ack.
    public var pendingResultCount: Int { core.pendingResults }

    /// Waits out the grace period for running attempts, kills what is left, then gives the
    /// results a short chance to be acknowledged.
    private func drain() async {
        core.beginShutdown()
        logger.info("shutting down: refusing new work", metadata: ["running": .stringConvertible(core.runningCount)])
        if await !waitUntil(upTo: configuration.shutdownGracePeriod, { self.core.runningCount == 0 }) {
            logger.warning("grace period over: killing running attempts", metadata: ["running": .stringConvertible(core.runningCount)])
            core.killAll(.agentShutdown)
            _ = await waitUntil(upTo: .seconds(10)) { self.core.runningCount == 0 }
        }
        if await !waitUntil(upTo: configuration.resultFlushTimeout, { self.core.pendingResults == 0 }) {
            logger.warning("exiting with unacknowledged results", metadata: ["pending": .stringConvertible(core.pendingResults)])
        }
    }

    /// Polls `condition` every 20 ms; false if it still fails after `limit` or on cancellation.
    func waitUntil(upTo limit: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !condition() {
            guard clock.now < deadline, (try? await Task.sleep(for: .milliseconds(20))) != nil else { return condition() }
        }
        return true
    }
}
