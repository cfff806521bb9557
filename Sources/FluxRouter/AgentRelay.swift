import FluxAPI
import FluxRuntime
import FluxTLS
import Foundation
import HummingbirdWebSocket
import Logging
import NIOSSL
import WSClient

/// One agent session through the router: read the agent's `hello`, find the shard that owns its
/// tenant's slot, open a session to that shard, send the `hello` on, then copy frames both ways
/// until either side closes — and close the other side then.
///
/// With TLS on the agent listener the relay checks one thing itself: the `hello` must name the
/// tenant and node of the agent's certificate (else `identity_mismatch`); it then passes the
/// verified identity on as an `AgentAttestation` in place of the agent token. Beyond that the
/// relay never interprets the session: authentication, `welcome`, dispatches and `moved` are
/// the shard's. When the slot moves, the shard says `moved` and closes; the agent reconnects to
/// the router, which by then routes it to the new owner.
struct AgentRelay: Sendable {
    let directory: OwnerDirectory
    let metrics: RouterMetrics
    let signer: TaskIDSigner
    /// True when agents connect over TLS with certificates: identity comes from the certificate.
    let requireCertificate: Bool
    let trustDomain: String
    /// Revoked certificates (with `requireCertificate`): refused at hello, live sessions closed.
    let revocations: RevocationWatcher?
    /// The router's client side toward shards whose agent listener is TLS (`wss://` in their
    /// membership record); nil when this router has no certificate.
    let shardTLS: TLSConfiguration?

    static let helloTimeout: Duration = .seconds(10)
    static let maxFrameBytes = 1 << 20

    /// `closeConnection` drops the agent's TCP connection at once (used when its certificate is
    /// revoked: a WebSocket close handshake would wait on the agent).
    func run(
        _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, peer: AgentTLS.Peer,
        closeConnection: @escaping @Sendable () async -> Void = {}, logger: Logger
    ) async throws {
        let frames = FrameReader(inbound.messages(maxSize: Self.maxFrameBytes).makeAsyncIterator())
        guard var helloText = try await Self.withTimeout(Self.helloTimeout, { try await frames.next() }),
              case .hello(var hello)? = try? AgentFrameCodec.decode(helloText)
        else {
            return try await reject(outbound, APIProblem(code: "hello_required", message: "the first frame must be a hello"), logger: logger)
        }
        guard NameRules.isValidName(hello.tenant) else {
            return try await reject(outbound, .invalid("tenant", "must match [a-z0-9-]{1,63}"), logger: logger)
        }
        var serial: String?
        if requireCertificate {
            guard case .agent(let identity, let certificateSerial) = peer, identity.trustDomain == trustDomain else {
                return try await reject(outbound, APIProblem(
                    code: "identity_required", message: "this listener needs a client certificate naming an agent of trust domain \(trustDomain)"), logger: logger)
            }
            guard identity.tenant == hello.tenant, identity.node == hello.node else {
                metrics.agentIdentityMismatch()
                return try await reject(outbound, APIProblem(
                    code: "identity_mismatch", message: "the certificate names \(identity.tenant)/\(identity.node), the hello \(hello.tenant)/\(hello.node)"),
                    logger: logger)
            }
            if revocations?.isRevoked(certificateSerial) == true {
                metrics.agentCertificateRevoked()
                return try await reject(outbound, .certificateRevoked(serial: certificateSerial), logger: logger)
            }
            serial = certificateSerial
            do {
                hello.token = try await AgentAttestation.make(signer: signer, tenant: identity.tenant, node: identity.node, nowMs: WallClock.nowMs())
                helloText = try AgentFrameCodec.encode(.hello(hello))
            } catch {
                return try await reject(outbound, APIProblem(code: "slot_not_ready", message: "the cluster key is unreachable; retry"), logger: logger)
            }
        }
        let firstFrame = helloText
        let slot = Slotting.slot(forTenant: hello.tenant, slotCount: directory.table.slotCount)
        var owner = directory.table.owner(ofSlot: slot)
        if owner == nil { owner = await directory.refresh().owner(ofSlot: slot) }
        guard let owner else {
            return try await reject(outbound, APIProblem(code: "slot_not_ready", message: "no shard serves tenant \(hello.tenant) yet; retry"), logger: logger)
        }
        var logger = logger
        logger[metadataKey: "node"] = "\(hello.tenant)/\(hello.node)"
        logger[metadataKey: "to"] = "\(owner.shard.id)"
        let sessionLogger = logger
        metrics.agentSessionOpened()
        defer { metrics.agentSessionClosed() }
        // A revocation while the session lasts ends it: the agent is told why, and the relay
        // stops (which closes both connections).
        let (revoked, revokedSignal) = AsyncStream.makeStream(of: Void.self)
        let registration = serial.flatMap { serial in
            revocations.map { watcher in
                (watcher, serial, watcher.register(serial: serial) { [metrics] in
                    metrics.agentCertificateRevoked()
                    let problem = APIProblem.certificateRevoked(serial: serial)
                    try? await outbound.write(.text((try? AgentFrameCodec.encode(.error(problem))) ?? "{}"))
                    await closeConnection()
                    revokedSignal.finish()
                })
            }
        }
        defer { if let (watcher, serial, id) = registration { watcher.unregister(serial: serial, id: id) } }
        // A revocation read between the check at hello and the registration closed nothing.
        if let serial, revocations?.isRevoked(serial) == true {
            return try await reject(outbound, .certificateRevoked(serial: serial), logger: logger)
        }
        do {
            let secure = owner.shard.agent.hasPrefix("wss://")
            guard !secure || shardTLS != nil else {
                logger.error("shard serves agents over TLS but this router has no certificate (--agent-tls-*)", metadata: ["shard": "\(owner.shard.id)"])
                return try await reject(outbound, APIProblem(code: "slot_not_ready", message: "the router cannot reach the shard serving tenant \(hello.tenant); retry"), logger: logger)
            }
            let configuration = WebSocketClientConfiguration(
                maxFrameSize: Self.maxFrameBytes, closeTimeout: .seconds(2), sniHostname: secure ? AgentTLS.shardServerName : nil)
            try await WebSocketClient.connect(
                url: secure ? "\(owner.shard.agent)/v1/agent/connect" : "ws://\(owner.shard.agent)/v1/agent/connect",
                configuration: configuration, tlsConfiguration: secure ? shardTLS : nil, logger: sessionLogger
            ) { upstreamInbound, upstreamOutbound, _ in
                try await upstreamOutbound.write(.text(firstFrame))
                sessionLogger.debug("agent session relayed")
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Shard → agent; when the shard closes, close the agent's side too.
                        do {
                            for try await message in upstreamInbound.messages(maxSize: Self.maxFrameBytes) {
                                guard case .text(let text) = message else { continue }
                                try await outbound.write(.text(text))
                            }
                        } catch {}
                        try? await outbound.close(.normalClosure, reason: "shard closed")
                    }
                    group.addTask {
                        // Agent → shard; when the agent goes, close the shard's side.
                        do {
                            while let text = try await frames.next() { try await upstreamOutbound.write(.text(text)) }
                        } catch {}
                        try? await upstreamOutbound.close(.normalClosure, reason: "agent closed")
                    }
                    group.addTask {
                        // Ends the session when its certificate is revoked (see above).
                        for await _ in revoked {}
                    }
                    await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            // The owner died between the table read and the connect: the agent backs off and
            // asks again, by which time the table has caught up.
            logger.info("shard unreachable for agent session", metadata: ["error": "\(error)"])
            await directory.refresh()
            try? await reject(outbound, APIProblem(code: "slot_not_ready", message: "the shard serving tenant \(hello.tenant) is unreachable; retry"), logger: logger)
        }
    }

    private func reject(_ outbound: WebSocketOutboundWriter, _ problem: APIProblem, logger: Logger) async throws {
        logger.info("agent session refused", metadata: ["code": "\(problem.code)"])
        try await outbound.write(.text((try? AgentFrameCodec.encode(.error(problem))) ?? "{}"))
        try await outbound.close(.policyViolation, reason: problem.code)
    }

    /// Runs `body`, or returns nil once `limit` has passed.
    static func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T?) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { try await Task.sleep(for: limit); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// The agent's inbound frames, read first by the relay (the `hello`) and then by the pump that
/// copies them to the shard. Never read by two tasks at once: the hello read has finished before
/// the pump starts, which is what makes the unchecked `Sendable` sound.
final class FrameReader: @unchecked Sendable {
    private var iterator: WebSocketInboundMessageStream.AsyncIterator

    init(_ iterator: WebSocketInboundMessageStream.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next text frame (binary frames are not part of the protocol and are skipped).
    func next() async throws -> String? {
        while let message = try await iterator.next() {
            if case .text(let text) = message { return text }
        }
        return nil
    }
}
