import ArgumentParser
import FluxAgent
import Foundation
import Logging
import UnixSignals
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `fluxforge agent`: runs one edge agent in the foreground until SIGTERM/SIGINT. The first
/// signal drains (no new work, running attempts get the grace period); a second one stops at once.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run an edge agent: keep a session to the router and execute dispatched commands.")

    @Option(help: "Session URL: wss://HOST:PORT/v1/agent/connect with an enrolled certificate (--state-dir), or ws:// with the agent token (dev mode).")
    var url: String
    @Option(help: "Tenant this node belongs to.")
    var tenant: String
    @Option(help: "Node name, unique within the tenant.")
    var node: String
    @Option(help: "Failure domain: zone.")
    var zone: String
    @Option(help: "Failure domain: rack.")
    var rack: String
    @Option(name: .customLong("label"), help: "Node label key=value (repeatable).")
    var labels: [String] = []
    @Option(help: "Attempts run at once.")
    var capacity: Int = 4
    @Option(help: "With wss://, the DNS name the router's certificate must carry (sent as SNI); needed when --url names an IP address.")
    var tlsServerName: String?
    @Option(help: "Dev-mode agent token (INSECURE); default: $FLUXFORGE_AGENT_TOKEN.")
    var token: String?
    @Option(name: .customLong("allow"), help: "Allowed program: a name (looked up in the task PATH) or a path; matched by the file it resolves to (repeatable; none: allow all).")
    var allowedCommands: [String] = []
    @Flag(name: .customLong("allow-env-override"), help: "Let dispatches set PATH and LD_* variables (refused by default).")
    var allowEnvironmentOverride = false
    @Option(help: "Bytes of output tail kept per attempt.")
    var outputTailBytes: Int = 4096
    @Option(help: "Health report period in milliseconds (the shard's welcome may set another).")
    var healthIntervalMs: Int = 5000
    @Option(help: "Smallest reconnect delay in milliseconds.")
    var reconnectMinMs: Int = 100
    @Option(help: "Largest reconnect delay in milliseconds.")
    var reconnectMaxMs: Int = 5000
    @Option(help: "On SIGTERM, milliseconds running attempts may take before they are killed.")
    var shutdownGraceMs: Int = 30_000
    @Option(help: "Test hook: report this self-score in every health frame.")
    var chaosSelfScore: Double?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    /// With `--join`, the agent enrolls at its first start (a valid stored certificate is reused).
    @OptionGroup var enrollment: EnrollmentOptions

    func validate() throws {
        guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else { throw ValidationError("--url must be ws:// or wss://") }
        guard capacity >= 1 else { throw ValidationError("--capacity must be at least 1") }
        guard (0...65_536).contains(outputTailBytes) else { throw ValidationError("--output-tail-bytes must be within 0…65536") }
        guard healthIntervalMs > 0, shutdownGraceMs >= 0 else { throw ValidationError("intervals must be positive") }
        guard reconnectMinMs > 0, reconnectMinMs <= reconnectMaxMs else {
            throw ValidationError("need 0 < --reconnect-min-ms <= --reconnect-max-ms")
        }
        if let chaosSelfScore, !(0...1).contains(chaosSelfScore) { throw ValidationError("--chaos-self-score must be in [0, 1]") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        _ = try parsedLabels()
        if url.hasPrefix("wss://") {
            guard enrollment.stateDir?.isEmpty == false else {
                throw ValidationError("wss:// needs --state-dir holding the enrolled certificate (or --join to enroll first)")
            }
            let host = URL(string: url)?.host ?? ""
            guard tlsServerName != nil || (!host.isEmpty && inet_addr(host) == INADDR_NONE && !host.contains(":")) else {
                throw ValidationError("wss:// to an IP address needs --tls-server-name: a DNS name in the router's certificate (TLS cannot send an IP as SNI)")
            }
        } else {
            let fromEnvironment = getenv("FLUXFORGE_AGENT_TOKEN").map { String(cString: $0) } ?? ""
            guard token?.isEmpty == false || !fromEnvironment.isEmpty else {
                throw ValidationError("an agent token is required with ws://: --token or FLUXFORGE_AGENT_TOKEN")
            }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "fluxforge.agent")
        if enrollment.join != nil {
            let outcome = try await enrollment.ensureEnrolled(tenant: tenant, node: node, logger: logger)
            logger.notice("\(outcome.split(separator: "\n").first ?? "")")
        }
        var configuration = try agentConfiguration()
        if url.hasPrefix("wss://"), let stateDir = enrollment.stateDir {
            let files = AgentEnrollment.Files(directory: URL(fileURLWithPath: stateDir))
            guard let identity = AgentEnrollment.stored(in: files, tenant: tenant, node: node, now: Date()) else {
                throw ValidationError("\(stateDir) holds no valid certificate for \(tenant)/\(node): enroll with --join (or fluxforge enroll)")
            }
            logger.notice("connecting with mTLS", metadata: ["identity": "\(identity.uri)"])
            configuration.identity = files
            configuration.tlsServerName = tlsServerName
        }
        let agent = Agent(configuration: configuration, logger: logger)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await agent.run() }
            group.addTask { await Self.relay(signals, to: agent) }
            await group.next()
            group.cancelAll()
        }
    }

    /// First signal: graceful shutdown. Second: return, which cancels the agent (kills at once).
    private static func relay(_ signals: UnixSignalsSequence, to agent: Agent) async {
        let logger = Logger(label: "fluxforge.agent")
        var received = 0
        for await signal in signals {
            received += 1
            guard received == 1 else {
                logger.warning("second signal \(signal): stopping now")
                return
            }
            logger.notice("signal \(signal): draining (send again to stop now)")
            agent.shutdown()
        }
    }

    func agentConfiguration() throws -> AgentConfiguration {
        AgentConfiguration(
            url: url, tenant: tenant, node: node, zone: zone, rack: rack, labels: try parsedLabels(),
            capacity: capacity, token: url.hasPrefix("wss://") ? ((try? resolvedToken()) ?? "") : try resolvedToken(),
            allowedCommands: allowedCommands.isEmpty ? nil : Set(allowedCommands),
            outputTailBytes: outputTailBytes, healthInterval: .milliseconds(healthIntervalMs),
            reconnectMinimum: .milliseconds(reconnectMinMs), reconnectMaximum: .milliseconds(reconnectMaxMs),
            shutdownGracePeriod: .milliseconds(shutdownGraceMs), chaosSelfScore: chaosSelfScore,
            allowEnvironmentOverrides: allowEnvironmentOverride)
    }

    func parsedLabels() throws -> [String: String] {
        var result: [String: String] = [:]
        for label in labels {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--label wants key=value, got \(label)") }
            result[String(parts[0])] = String(parts[1])
        }
        return result
    }

    func resolvedToken() throws -> String {
        if let token, !token.isEmpty { return token }
        if let token = getenv("FLUXFORGE_AGENT_TOKEN").map({ String(cString: $0) }), !token.isEmpty {
            // Read once, then gone from the environment: nothing this process starts can inherit it.
            unsetenv("FLUXFORGE_AGENT_TOKEN")
            return token
        }
        throw ValidationError("an agent token is required: --token or FLUXFORGE_AGENT_TOKEN")
    }
}
