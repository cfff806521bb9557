import FluxAPI
import Foundation
import Logging
import NIOSSL
import Synchronization
import WSClient

/// An in-process stand-in for `fluxforge agent` that runs nothing: it says hello through the
/// router, answers pings, and reports every dispatched attempt `started` then `finished` (exit 0)
/// after the configured service time. Thousands share one process, so the generator can open as
/// many sessions as a real fleet without a process per node.
struct SimulatedAgent: Sendable {
    let url: String
    /// The agent's own certificate for `wss://` (nil: `ws://` and the token in `hello`).
    let tls: TLSConfiguration?
    let hello: AgentMessage.Hello
    let serviceTime: Duration
    let book: LatencyBook
    let logger: Logger

    /// Keeps a session up (reconnecting after `moved` or a refusal) until the task is cancelled;
    /// `sessions` counts this agent while its current session is welcomed.
    func run(sessions: SessionCounter) async {
        while !Task.isCancelled {
            do {
                try await WebSocketClient.connect(
                    url: url,
                    // NIOSSL takes no IP address as SNI: over TLS the server's certificate names `localhost`.
                    configuration: .init(maxFrameSize: 1 << 20, closeTimeout: .seconds(1), sniHostname: tls == nil ? nil : "localhost"),
                    tlsConfiguration: tls, logger: logger
                ) { inbound, outbound, _ in
                    var welcomed = false
                    defer { if welcomed { sessions.add(-1) } }
                    try await outbound.write(.text(Self.encode(.hello(hello))))
                    let replies = AsyncStream<AgentMessage>.makeStream(bufferingPolicy: .unbounded)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await message in replies.stream { try await outbound.write(.text(Self.encode(message))) }
                        }
                        defer { replies.continuation.finish() }
                        for try await frame in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = frame, let message = try? AgentFrameCodec.decode(text) else { continue }
                            switch message {
                            case .welcome where !welcomed:
                                welcomed = true
                                sessions.add(1)
                            case .ping(let probe): replies.continuation.yield(.pong(probe))
                            case .dispatch(let dispatch): handle(dispatch, replies.continuation, group: &group)
                            case .ack(let attempt): book.finished(attempt.taskId, at: .now)
                            default: break
                            }
                        }
                        replies.continuation.finish()
                        try await group.waitForAll()
                    }
                }
            } catch {}
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private func handle(
        _ dispatch: AgentMessage.Dispatch, _ replies: AsyncStream<AgentMessage>.Continuation, group: inout ThrowingTaskGroup<Void, any Error>
    ) {
        book.dispatched(dispatch.taskId, at: .now)
        let attempt = AgentMessage.TaskAttempt(taskId: dispatch.taskId, attempt: dispatch.attempt)
        let finished = AgentMessage.finished(.init(
            taskId: dispatch.taskId, attempt: dispatch.attempt, exitCode: 0, outputTail: "", durationMs: Int(serviceTime.components.seconds * 1_000)))
        replies.yield(.started(attempt))
        if serviceTime == .zero {
            replies.yield(finished)
        } else {
            let serviceTime = serviceTime
            group.addTask {
                try await Task.sleep(for: serviceTime)
                replies.yield(finished)
            }
        }
    }

    static func encode(_ message: AgentMessage) -> String {
        (try? AgentFrameCodec.encode(message)) ?? "{}"
    }
}

/// How many simulated agents hold a welcomed session right now.
final class SessionCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
