import FluxAPI
import FluxAgent
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// Plays the shard's side of the agent protocol on 127.0.0.1 (port 0): records every frame the
/// agent sends, answers `hello` with `welcome` and results with `ack` unless told otherwise, and
/// lets a test send frames or drop connections.
final class FakeShard: Sendable {
    struct Frame: Sendable {
        var connection: Int
        var message: AgentMessage
    }

    struct Behaviour: Sendable {
        var welcome = true
        var ack = true
        var heartbeatIntervalMs = 1000
    }

    private struct Connection: Sendable {
        var outbound: WebSocketOutboundWriter
        var close: AsyncStream<Void>.Continuation
    }

    private struct State {
        var frames: [Frame] = []
        var open: [Int: Connection] = [:]
        var opened = 0
        var behaviour = Behaviour()
        var port: Int?
    }

    private let state = Mutex(State())
    private let server = Mutex<Task<Void, any Error>?>(nil)

    /// Starts the server and waits until it listens.
    static func start() async throws -> FakeShard {
        let shard = FakeShard()
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 20))) { request, _, _ in
                guard request.path == "/v1/agent/connect" else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in await shard.serve(inbound, outbound) }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in shard.state.withLock { $0.port = channel.localAddress?.port } },
            logger: Logger(label: "fake-shard", factory: { _ in SwiftLogNoOpLogHandler() }))
        shard.server.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        // Generous: at the start of the suite every test starts at once on two cores.
        try await eventually(upTo: .seconds(60), "fake shard listening") { shard.state.withLock { $0.port != nil } }
        return shard
    }

    func stop() async {
        let task = server.withLock { $0 }
        task?.cancel()
        _ = await task?.result
    }

    var url: String { "ws://127.0.0.1:\(state.withLock { $0.port! })/v1/agent/connect" }

    func setBehaviour(_ change: (inout Behaviour) -> Void) { state.withLock { change(&$0.behaviour) } }

    /// Connections accepted so far (the first is 1).
    var connectionCount: Int { state.withLock { $0.opened } }

    var frames: [Frame] { state.withLock { $0.frames } }

    /// Messages of one type, optionally only those on one connection.
    func messages(_ type: String, on connection: Int? = nil) -> [AgentMessage] {
        frames.filter { $0.message.type == type && (connection == nil || $0.connection == connection) }.map(\.message)
    }

    /// Waits until at least `count` messages of `type` arrived (on `connection`, if given).
    @discardableResult
    func waitFor(_ type: String, count: Int = 1, on connection: Int? = nil, upTo limit: Duration = .seconds(10)) async throws -> [AgentMessage] {
        try await eventually(upTo: limit, "\(count)× \(type) on \(connection.map(String.init) ?? "any")") {
            messages(type, on: connection).count >= count
        }
        return messages(type, on: connection)
    }

    /// Sends a frame on the newest open connection.
    func send(_ message: AgentMessage) async throws {
        let connection = state.withLock { state in state.open.max { $0.key < $1.key }?.value }
        guard let connection else { throw TimedOut(description: "no open connection to send \(message.type)") }
        try await connection.outbound.writeTextMessage(try AgentFrameCodec.encode(message))
    }

    /// Closes every open connection from the server side.
    func dropConnections() {
        state.withLock { state in state.open.values.forEach { $0.close.finish() } }
    }

    private func serve(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async {
        let (closed, close) = AsyncStream.makeStream(of: Void.self)
        let id = state.withLock { state in
            state.opened += 1
            state.open[state.opened] = Connection(outbound: outbound, close: close)
            return state.opened
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.read(inbound, outbound, connection: id) }
            group.addTask { for await _ in closed {} }
            await group.next()
            group.cancelAll()
        }
        _ = state.withLock { $0.open.removeValue(forKey: id) }
    }

    private func read(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, connection: Int) async {
        do {
            for try await frame in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = frame else { continue }
                let message = try AgentFrameCodec.decode(text)
                // Reply before recording, so a test that saw `hello` knows `welcome` is on its way
                // ahead of anything the test sends next.
                if let reply = Self.reply(to: message, behaviour: state.withLock { $0.behaviour }) {
                    try await outbound.writeTextMessage(try AgentFrameCodec.encode(reply))
                }
                state.withLock { $0.frames.append(Frame(connection: connection, message: message)) }
            }
        } catch {}
    }

    private static func reply(to message: AgentMessage, behaviour: Behaviour) -> AgentMessage? {
        switch message {
        case .hello where behaviour.welcome:
            return .welcome(.init(shard: "fake-shard", heartbeatIntervalMs: behaviour.heartbeatIntervalMs))
        case .finished(let finished) where behaviour.ack:
            return .ack(.init(taskId: finished.taskId, attempt: finished.attempt))
        case .rejected(let rejected) where behaviour.ack:
            return .ack(.init(taskId: rejected.taskId, attempt: rejected.attempt))
        default:
            return nil
        }
    }
}
