/// PEM files of an agent listener (router or shard): its own certificate chain and key, and the
/// CA whose client certificates it accepts (the cluster CA's `ca.crt`). A router uses the same
/// certificate as its client certificate toward shards.
public struct AgentTLSFiles: Sendable, Hashable {
    public var certificate: String
    public var key: String
    public var clientCA: String
    public init(certificate: String, key: String, clientCA: String) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }
}

/// PEM files of an HTTPS API listener.
public struct APITLSFiles: Sendable, Hashable {
    public var certificate: String
    public var key: String
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}
