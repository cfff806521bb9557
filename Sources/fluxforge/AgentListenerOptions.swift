import ArgumentParser
import FluxTLS
import Foundation

/// How the agent port of a router or shard is secured (docs/security.md#agent-identity-issue-12-in-progress):
/// mutual TLS with certificates of the cluster CA, or, chosen explicitly, `--insecure-dev`.
struct AgentListenerOptions: ParsableArguments {
    @Option(help: "PEM certificate (chain) of the agent listener; with --agent-tls-key and --agent-client-ca, peers must present a certificate of the cluster CA (an agent's; on a shard also a router's, spiffe://<domain>/router/<name>).")
    var agentTLSCert: String?
    @Option(help: "PEM private key of the agent listener's certificate.")
    var agentTLSKey: String?
    @Option(help: "PEM CA certificate whose client certificates the agent listener accepts (the cluster CA's ca.crt).")
    var agentClientCA: String?
    @Flag(help: "Accept agents over plain ws:// with the tenant's shared agent token instead of --agent-tls-* (local experiments only; logged, and shown in /readyz).")
    var insecureDev = false

    func validate() throws {
        let files = [agentTLSCert, agentTLSKey, agentClientCA].compactMap { $0 }
        guard files.isEmpty || files.count == 3 else {
            throw ValidationError("--agent-tls-cert, --agent-tls-key and --agent-client-ca go together")
        }
        for file in files where !FileManager.default.isReadableFile(atPath: file) { throw ValidationError("cannot read \(file)") }
        guard files.isEmpty == insecureDev else {
            throw ValidationError(insecureDev
                ? "--insecure-dev and --agent-tls-* exclude each other"
                : "agents need --agent-tls-cert, --agent-tls-key and --agent-client-ca (mutual TLS), or --insecure-dev for plain ws:// with agent tokens (local experiments only)")
        }
    }

    /// The listener's files, nil with `--insecure-dev`.
    var files: AgentTLSFiles? {
        guard let agentTLSCert, let agentTLSKey, let agentClientCA else { return nil }
        return AgentTLSFiles(certificate: agentTLSCert, key: agentTLSKey, clientCA: agentClientCA)
    }
}
