import FluxAPI
import Foundation
import Logging
import NIOSSL
import WSClient

extension Agent {
    /// How one session ended, for the reconnect decision and the log line.
    struct SessionOutcome {
        /// How long the session was open; nil when the connect itself failed.
        var lasted: Duration?
        /// Set when the agent closed the session on the server's word (`moved`, `error`).
        var closeReason: AgentStateMachine.CloseReason?
        var error: (any Error)?
    }

    /// Largest frame accepted or sent: a `finished` with a 4 KiB tail is far below it, even when
    /// every byte of the tail needs a six-character JSON escape.
    static let maxFrameBytes = 1 << 20

    var webSocketConfiguration: WebSocketClientConfiguration {
        // Client pings find a half-open TCP connection (a router that vanished) within 30 s.
        WebSocketClientConfiguration(
            maxFrameSize: Self.maxFrameBytes, closeTimeout: .seconds(2), autoPing: .enabled(timePeriod: .seconds(15)),
            sniHostname: configuration.tlsServerName)
    }

    /// TLS 1.3 with the agent's enrolled certificate, trusting only the cluster CA it was given
    /// at enrollment (and checking that the router's certificate names the host dialled).
    static func tlsConfiguration(_ files: AgentEnrollment.Files) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(files.ca.path))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(files.certificate.path).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: files.key.path, format: .pem))
        return tls
    }

    /// Connects, serves, and reconnects with backoff until the agent stops.
    func runSessions() async {
        var backoff = ReconnectBackoff(
            minimum: configuration.reconnectMinimum, maximum: configuration.reconnectMaximum,
            stableSession: configuration.stableSessionDuration)
        var random = SystemRandomNumberGenerator()
        while stopped.value == nil {
            let outcome = await runSession()
            guard stopped.value == nil else { return }
            if case .moved = outcome.closeReason { backoff.reset() }
            let refused = if case .refused = outcome.closeReason { true } else { false }
            let delay = backoff.nextDelay(sessionLasted: refused ? nil : outcome.lasted, using: &random)
            logDisconnect(outcome, delay: delay)
            _ = await stopped.wait(upTo: delay)
        }
    }

    private func runSession() async -> SessionOutcome {
        let clock = ContinuousClock()
        let opened = OneShot<ContinuousClock.Instant>()
        var failure: (any Error)?
        do {
            // Read at every connect, so a renewed certificate is used from the next session on.
            let tls = try configuration.identity.map(Self.tlsConfiguration)
            try await WebSocketClient.connect(
                url: configuration.url, configuration: webSocketConfiguration, tlsConfiguration: tls, logger: logger
            ) { inbound, outbound, _ in
                opened.fire(clock.now)
                await self.serve(inbound: inbound, outbound: outbound)
            }
        } catch {
            failure = error
        }
        let closeReason = core.detach()
        return SessionOutcome(lasted: opened.value.map { clock.now - $0 }, closeReason: closeReason, error: failure)
    }

    /// One open session: a writer draining the machine's frames, a reader feeding it the
    /// server's, a health ticker. Whichever of reader and writer ends first ends the session.
    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        logger.info("connected", metadata: ["url": .string(configuration.url)])
        let (frames, continuation) = AsyncStream.makeStream(of: AgentMessage.self)
        core.attach(continuation)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.write(frames, to: outbound) }
            group.addTask { await self.read(inbound) }
            group.addTask { await self.tickHealth() }
            if let renewer = self.renewer { group.addTask { await self.renewWhenDue(renewer) } }
            await group.next()
            group.cancelAll()
        }
    }

    private func write(_ frames: AsyncStream<AgentMessage>, to outbound: WebSocketOutboundWriter) async {
        for await message in frames {
            do {
                try await outbound.writeTextMessage(try AgentFrameCodec.encode(message))
            } catch {
                logger.warning("send failed, ending session", metadata: ["error": .string("\(error)")])
                return
            }
        }
    }

    private func read(_ inbound: WebSocketInboundStream) async {
        do {
            for try await frame in inbound.messages(maxSize: Self.maxFrameBytes) {
                guard case .text(let text) = frame else {
                    logger.warning("ignored a binary frame")
                    continue
                }
                receive(text)
            }
        } catch {
            logger.warning("receive failed, ending session", metadata: ["error": .string("\(error)")])
        }
    }

    private func receive(_ text: String) {
        let message: AgentMessage
        do {
            message = try AgentFrameCodec.decode(text)
        } catch {
            logger.warning("ignored an undecodable frame", metadata: ["error": .string("\(error)")])
            return
        }
        if case .renewed(let issued) = message {
            renewer?.completed(issued)
            return
        }
        switch message {
        case .welcome(let welcome): logger.info("welcomed", metadata: ["shard": .string(welcome.shard)])
        case .moved(let moved): logger.info("moved: reconnecting", metadata: ["reason": .string(moved.reason)])
        case .error(let problem): logger.error("server error", metadata: ["code": .string(problem.code), "message": .string(problem.message)])
        default: break
        }
        core.handle { $0.received(message) }
    }

    /// Reports health at the period the shard asked for in `welcome`, else the configured one.
    /// Wakes at least every 100 ms so a period learned from `welcome` applies at once.
    private func tickHealth() async {
        let clock = ContinuousClock()
        var lastReport = clock.now
        while true {
            let interval = core.heartbeatInterval ?? configuration.healthInterval
            guard (try? await Task.sleep(for: min(interval, .milliseconds(100)))) != nil else { return }
            if clock.now - lastReport >= interval {
                core.handle { $0.healthTick() }
                lastReport = clock.now
            }
        }
    }

    /// Asks for a new certificate when it is due (checked every second while the session lasts).
    private func renewWhenDue(_ renewer: CertificateRenewer) async {
        while (try? await Task.sleep(for: .seconds(1))) != nil {
            if let request = renewer.requestIfDue(now: Date()) {
                logger.info("renewing the certificate")
                core.handle { _ in [.send(request)] }
            }
        }
    }

    private func logDisconnect(_ outcome: SessionOutcome, delay: Duration) {
        var metadata: Logger.Metadata = ["retryInMs": .stringConvertible(TaskExecutor.milliseconds(delay))]
        if let error = outcome.error { metadata["error"] = .string("\(error)") }
        if let reason = outcome.closeReason { metadata["reason"] = .string("\(reason)") }
        if let lasted = outcome.lasted {
            metadata["sessionMs"] = .stringConvertible(TaskExecutor.milliseconds(lasted))
            logger.info("disconnected", metadata: metadata)
        } else {
            logger.warning("connect failed", metadata: metadata)
        }
    }
}
