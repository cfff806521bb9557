import FluxAPI
import FluxRuntime
import FluxTLS
import Foundation
import HummingbirdWebSocket
import Logging

/// One agent's WebSocket session on the shard: hello and authentication, then frames in both
/// directions until either side closes. The session only translates; every decision about the
/// node and its tasks is the scheduler driver's.
struct AgentSession {
    let services: ShardServices
    let outbound: WebSocketOutboundWriter
    /// Who the TLS client certificate says the peer is (`.plaintext` without TLS).
    let peer: AgentTLS.Peer
    /// Drops the connection at once (a revoked certificate: a close handshake would wait on it).
    var closeConnection: @Sendable () async -> Void = {}
    let logger: Logger

    static let maxFrameBytes = 1 << 20
    /// Undecodable frames a session may send before it is closed (`malformed_frames`).
    static let maxMalformedFrames = 100
    /// Messages queued for one agent before the session is closed (`outbound_overflow`).
    static let outboundLimit = 10_000

    func run(_ inbound: WebSocketInboundStream) async throws {
        var frames = inbound.messages(maxSize: Self.maxFrameBytes).makeAsyncIterator()
        guard let hello = try await readHello(&frames) else { return }
        let byCertificate = AgentAttestation.isAttestation(hello.token) || { if case .agent = peer { true } else { false } }()
        let key = NodeKey(tenant: hello.tenant, node: hello.node)
        // Oldest kept: a full buffer refuses the newest message, and `AgentSessions.send` then
        // closes the session instead of silently losing a dispatch, cancel or ack.
        let (stream, continuation) = AsyncStream.makeStream(of: AgentMessage.self, bufferingPolicy: .bufferingOldest(Self.outboundLimit))
        let generation = services.sessions.register(key, outbound: continuation)
        var logger = logger
        logger[metadataKey: "node"] = "\(key)"
        logger.info("agent connected", metadata: ["zone": "\(hello.zone)", "capacity": "\(hello.capacity)"])
        // An agent here on its own certificate: a revocation while the session lasts ends it.
        let revocation = watchRevocation(logger: logger)
        defer { revocation?() }
        await services.driver.nodeConnected(hello)
        continuation.yield(.welcome(.init(shard: services.shardID, heartbeatIntervalMs: Int(services.heartbeatInterval.milliseconds))))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await writeLoop(stream, key: key, generation: generation) }
            await readLoop(&frames, key: key, renewable: byCertificate, logger: logger)
            continuation.finish()
            group.cancelAll()
        }
        if services.sessions.unregister(key, generation: generation) {
            logger.info("agent disconnected")
            await services.driver.nodeDisconnected(key)
        }
    }

    /// Registers the session's certificate with the revocation watcher (agents connected with
    /// their own certificate only: relayed sessions are the router's to close); returns what
    /// unregisters it.
    private func watchRevocation(logger: Logger) -> (() -> Void)? {
        guard case .agent(_, let serial) = peer, let watcher = services.revocations else { return nil }
        let (outbound, closeConnection) = (outbound, closeConnection)
        let id = watcher.register(serial: serial) {
            logger.warning("agent session closed", metadata: ["code": "certificate_revoked"])
            let problem = APIProblem.certificateRevoked(serial: serial)
            try? await outbound.write(.text(Self.encode(.error(problem))))
            await closeConnection()
        }
        // Revoked between the check at hello and this registration: end it now.
        if watcher.isRevoked(serial) { Task { await closeConnection() } }
        return { watcher.unregister(serial: serial, id: id) }
    }

    private func readHello(_ frames: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> AgentMessage.Hello? {
        // A connection that never says hello holds a socket and a task: close it on time.
        let timeout = services.configuration.agentHelloTimeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            try await reject(APIProblem(code: "hello_timeout", message: "no hello within \(timeout)"))
        }
        defer { timer.cancel() }
        guard case .text(let text)? = try await frames.next(),
              case .hello(let hello)? = try? AgentFrameCodec.decode(text)
        else {
            try await reject(APIProblem(code: "hello_required", message: "the first frame must be a hello"))
            return nil
        }
        if let problem = Self.validate(hello) {
            try await reject(problem)
            return nil
        }
        guard let tenant = try await authenticate(hello) else { return nil }
        // A node that reconnects replaces its own session: only new names count against the cap.
        let key = NodeKey(tenant: hello.tenant, node: hello.node)
        if !services.sessions.has(key), services.sessions.count(tenant: hello.tenant) >= tenant.settings.maxNodes {
            try await reject(APIProblem(code: "too_many_nodes", message: "tenant \(hello.tenant) already has \(tenant.settings.maxNodes) nodes connected"))
            return nil
        }
        // Until the tenant's slot is loaded from Redis, results could not be matched to their
        // tasks and would be lost: the agent backs off and says hello again.
        let slot = Slotting.slot(forTenant: hello.tenant, slotCount: services.configuration.slotCount)
        guard services.driver.isActive(slot: slot) else {
            try await reject(APIProblem(code: "slot_not_ready", message: "this shard is not serving tenant \(hello.tenant) yet; retry"))
            return nil
        }
        return hello
    }

    /// Who may say this hello (docs/security.md#agent-identity-issue-12-in-progress):
    /// - without TLS (dev): the tenant's agent token, or a router's attestation;
    /// - over TLS from a router's certificate: the router's attestation only;
    /// - over TLS from an agent's certificate: that agent, named by the certificate (not revoked);
    /// - any other certificate: nobody.
    private func authenticate(_ hello: AgentMessage.Hello) async throws -> TenantStore.Stored? {
        let attested = AgentAttestation.isAttestation(hello.token)
        let tenant: TenantStore.Stored?
        switch peer {
        case .plaintext:
            tenant = attested
                ? try await services.auth.attestedAgent(hello.tenant, node: hello.node, attestation: hello.token, signer: services.signer, nowMs: services.nowMs())
                : try await services.auth.agent(hello.tenant, token: hello.token)
        case .router(let router) where router.trustDomain == services.configuration.trustDomain && attested:
            tenant = try await services.auth.attestedAgent(hello.tenant, node: hello.node, attestation: hello.token, signer: services.signer, nowMs: services.nowMs())
        case .agent(let identity, let serial) where identity.trustDomain == services.configuration.trustDomain:
            guard identity.tenant == hello.tenant, identity.node == hello.node else {
                try await reject(APIProblem(code: "identity_mismatch", message: "the certificate names \(identity.tenant)/\(identity.node), the hello \(hello.tenant)/\(hello.node)"))
                return nil
            }
            guard services.revocations?.isRevoked(serial) != true else {
                try await reject(.certificateRevoked(serial: serial))
                return nil
            }
            tenant = try await services.auth.record(hello.tenant)
        default:
            try await reject(APIProblem(code: "identity_required", message: "this listener takes an agent's certificate, or a router's with its attestation"))
            return nil
        }
        guard let tenant else {
            let message = switch peer {
            case .agent: "tenant \(hello.tenant) does not exist or is being deleted"
            default: attested ? "the router's attestation of this agent is not valid" : "agent token is not valid for tenant \(hello.tenant)"
            }
            try await reject(APIProblem(code: "unauthorized", message: message))
            return nil
        }
        return tenant
    }

    static func validate(_ hello: AgentMessage.Hello) -> APIProblem? {
        for (field, value) in [("tenant", hello.tenant), ("node", hello.node), ("zone", hello.zone), ("rack", hello.rack)]
        where !NameRules.isValidName(value) {
            return .invalid(field, "must match [a-z0-9-]{1,63}")
        }
        guard (1...1_024).contains(hello.capacity) else { return .invalid("capacity", "must be within 1…1024") }
        guard hello.labels.count <= 32, hello.labels.allSatisfy({ NameRules.isValidLabel($0.key) && NameRules.isValidLabel($0.value) }) else {
            return .invalid("labels", "at most 32 labels, each [A-Za-z0-9._-]{1,63}")
        }
        return nil
    }

    private func reject(_ problem: APIProblem) async throws {
        logger.warning("agent session refused", metadata: ["code": "\(problem.code)"])
        try await outbound.write(.text(Self.encode(.error(problem))))
        try await outbound.close(.policyViolation, reason: problem.code)
    }

    /// Frames to the driver until the agent closes; a session that floods or keeps sending
    /// garbage is closed with a reason rather than allowed to fill the driver's queue.
    private func readLoop(_ frames: inout WebSocketInboundMessageStream.AsyncIterator, key: NodeKey, renewable: Bool, logger: Logger) async {
        var lastRenewal: ContinuousClock.Instant?
        var budget = FrameBudget(perSecond: services.configuration.agentFramesPerSecond)
        var malformed = 0
        do {
            while case .text(let text)? = try await frames.next() {
                guard budget.admit(nowMs: WallClock.nowMs()) else {
                    return await close(key, APIProblem(code: "frame_flood", message: "more than \(budget.perSecond) frames in one second"))
                }
                guard let message = try? AgentFrameCodec.decode(text) else {
                    malformed += 1
                    // One line for the first and then every hundredth: the log is not a second flood.
                    if malformed == 1 || malformed % 100 == 0 {
                        logger.warning("undecodable agent frames ignored", metadata: ["bytes": "\(text.utf8.count)", "count": "\(malformed)"])
                    }
                    guard malformed <= Self.maxMalformedFrames else {
                        return await close(key, APIProblem(code: "malformed_frames", message: "more than \(Self.maxMalformedFrames) undecodable frames"))
                    }
                    continue
                }
                if case .renew(let renew) = message {
                    await renewCertificate(renew, key: key, renewable: renewable, last: &lastRenewal, logger: logger)
                    continue
                }
                await services.driver.agentMessage(message, from: key)
            }
        } catch {
            logger.info("agent session read ended", metadata: ["error": "\(error)"])
        }
    }

    /// Signs a new certificate for the session's node (issue 12, renewal). Only for a session
    /// opened with a certificate (the agent's own, or a router's attestation of it) — a dev-mode
    /// token must not mint certificates — and at most once a minute per session. A refusal is
    /// logged and counted, not answered: the agent asks again later.
    private func renewCertificate(
        _ renew: AgentMessage.Renew, key: NodeKey, renewable: Bool, last: inout ContinuousClock.Instant?, logger: Logger
    ) async {
        let now = ContinuousClock.now
        guard renewable, services.ca != nil, last.map({ now - $0 >= .seconds(60) }) ?? true else {
            services.metrics.agentFrameRejected(reason: "renew_refused")
            logger.warning("certificate renewal refused", metadata: ["renewable": "\(renewable)", "ca": "\(services.ca != nil)"])
            return
        }
        last = now
        let issuer = AgentCertificateIssuer(services: services)
        do {
            let signed = try issuer.sign(csrPEM: renew.csr, tenant: key.tenant, node: key.node)
            let issued = try await issuer.record(signed, action: "certificate_renewed")
            _ = services.sessions.send(.renewed(issued), to: key)
            logger.info("certificate renewed", metadata: ["serial": "\(issued.serial)"])
        } catch {
            services.metrics.agentFrameRejected(reason: "renew_failed")
            logger.warning("certificate renewal failed", metadata: ["error": "\(error)"])
        }
    }

    /// Ends a misbehaving session: the agent is told why, the socket closes, the node's
    /// attempts are handled as for any lost session.
    private func close(_ key: NodeKey, _ problem: APIProblem) async {
        logger.warning("agent session closed", metadata: ["node": "\(key)", "code": "\(problem.code)"])
        services.metrics.agentSessionClosed(reason: problem.code)
        try? await outbound.write(.text(Self.encode(.error(problem))))
        try? await outbound.close(.policyViolation, reason: problem.code)
    }

    private func writeLoop(_ stream: AsyncStream<AgentMessage>, key: NodeKey, generation: UInt64) async {
        defer {
            if services.sessions.overflowed(generation) {
                Task { [self] in await close(key, APIProblem(code: "outbound_overflow", message: "more than \(Self.outboundLimit) messages waiting for this agent")) }
            }
        }
        for await message in stream {
            do {
                try await outbound.write(.text(Self.encode(message)))
            } catch {
                return
            }
            if case .moved = message { try? await outbound.close(.normalClosure, reason: "moved") }
            if case .error = message { try? await outbound.close(.normalClosure, reason: "replaced") }
        }
    }

    static func encode(_ message: AgentMessage) -> String {
        (try? AgentFrameCodec.encode(message)) ?? "{}"
    }
}
