/// The body of `POST /v1/tenants/{tenant}/join-tokens`: how long the token lives, how many
/// agents may enroll with it, and which node names they may take (docs/security.md).
public struct JoinTokenRequest: Codable, Sendable, Hashable {
    public var ttlSeconds: Int
    public var maxUses: Int
    /// `*` (any node), an exact node name, or a prefix ending in `*` (`edge-*`).
    public var nodePattern: String

    enum CodingKeys: String, CodingKey, CaseIterable { case ttlSeconds, maxUses, nodePattern }

    public init(ttlSeconds: Int = 3_600, maxUses: Int = 1, nodePattern: String = "*") {
        self.ttlSeconds = ttlSeconds
        self.maxUses = maxUses
        self.nodePattern = nodePattern
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ttlSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .ttlSeconds) ?? 3_600
        maxUses = try c.decodeIntegerIfPresent(Int.self, forKey: .maxUses) ?? 1
        nodePattern = try c.decodeIfPresent(String.self, forKey: .nodePattern) ?? "*"
    }

    /// 1 s … 30 days, 1 … 10,000 uses, and a pattern `NodePattern` accepts.
    public func validate() throws(APIProblem) {
        try TaskSubmission.check(ttlSeconds, in: 1...2_592_000, field: "ttlSeconds")
        try TaskSubmission.check(maxUses, in: 1...10_000, field: "maxUses")
        guard NodePattern.isValid(nodePattern) else {
            throw .invalid("nodePattern", "must be *, a node name, or a node-name prefix ending in * ([a-z0-9-]{1,62}*)")
        }
    }
}

/// Which node names a join token lets an agent take. Deliberately small: `*`, an exact name, or
/// a prefix and `*`. The Redis script that spends a token applies the same rule
/// (`JoinTokenScripts.redeem`); `matches` is its reference.
public enum NodePattern {
    public static func isValid(_ pattern: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix("*") {
            let prefix = pattern.dropLast()
            return !prefix.isEmpty && prefix.utf8.count < NameRules.maxLength && NameRules.isValidName(prefix)
        }
        return NameRules.isValidName(pattern)
    }

    public static func matches(_ pattern: String, node: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix("*") { return node.hasPrefix(pattern.dropLast()) }
        return node == pattern
    }
}

/// Answer to creating a join token: the token itself is shown this once (Redis keeps its hash).
public struct JoinTokenCreated: Codable, Sendable, Hashable {
    public var tenant: String
    /// `ffj_` and 64 hex characters.
    public var token: String
    /// Names the token in listings and in `DELETE …/join-tokens/{id}` without revealing it.
    public var id: String
    public var expiresAtMs: Int64
    public var maxUses: Int
    public var nodePattern: String
    /// `sha256:<hex>` of the cluster CA's public key: give it to the agent with the token
    /// (`--ca-hash`), so it trusts only this cluster's CA.
    public var caHash: String

    public init(tenant: String, token: String, id: String, expiresAtMs: Int64, maxUses: Int, nodePattern: String, caHash: String) {
        self.tenant = tenant
        self.token = token
        self.id = id
        self.expiresAtMs = expiresAtMs
        self.maxUses = maxUses
        self.nodePattern = nodePattern
        self.caHash = caHash
    }
}

/// The body of `POST /v1/tenants/{tenant}/nodes/{node}/enroll` (bearer: the join token).
public struct EnrollmentRequest: Codable, Sendable, Hashable {
    /// A PKCS#10 certificate signing request, PEM, for the agent's own ECDSA P-256 key. Its
    /// subject is ignored: the certificate names the tenant and node of the path.
    public var csr: String

    enum CodingKeys: String, CodingKey, CaseIterable { case csr }

    /// A PEM CSR for one P-256 key is under 1 KB; this leaves room and nothing more.
    public static let maxCSRBytes = 8 * 1_024

    public init(csr: String) { self.csr = csr }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        csr = try c.decode(String.self, forKey: .csr)
    }

    public func validate() throws(APIProblem) {
        guard !csr.isEmpty, csr.utf8.count <= Self.maxCSRBytes else {
            throw .invalid("csr", "must be a PEM certificate signing request of at most \(Self.maxCSRBytes) bytes")
        }
    }
}

/// Answer to an enrollment: the agent's certificate and the CA that signed it.
public struct EnrollmentIssued: Codable, Sendable, Hashable {
    public var tenant: String
    public var node: String
    /// `spiffe://<trust domain>/tenant/<tenant>/node/<node>`, the certificate's URI SAN.
    public var spiffeID: String
    /// The certificate's serial number, hex: what revocation names.
    public var serial: String
    public var notAfterMs: Int64
    public var certificate: String
    public var caCertificate: String

    public init(tenant: String, node: String, spiffeID: String, serial: String, notAfterMs: Int64, certificate: String, caCertificate: String) {
        self.tenant = tenant
        self.node = node
        self.spiffeID = spiffeID
        self.serial = serial
        self.notAfterMs = notAfterMs
        self.certificate = certificate
        self.caCertificate = caCertificate
    }
}

/// `GET /v1/cluster/ca`: the cluster CA's certificate (public) and its pin.
public struct ClusterCAView: Codable, Sendable, Hashable {
    public var certificate: String
    public var caHash: String
    public var trustDomain: String
    public init(certificate: String, caHash: String, trustDomain: String) {
        self.certificate = certificate
        self.caHash = caHash
        self.trustDomain = trustDomain
    }
}

/// One live join token in `GET /v1/tenants/{tenant}/join-tokens` (never the token itself).
public struct JoinTokenSummary: Codable, Sendable, Hashable {
    public var id: String
    public var usesLeft: Int
    public var nodePattern: String
    public var createdAtMs: Int64
    public var expiresAtMs: Int64
    public init(id: String, usesLeft: Int, nodePattern: String, createdAtMs: Int64, expiresAtMs: Int64) {
        self.id = id
        self.usesLeft = usesLeft
        self.nodePattern = nodePattern
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
    }
}

/// `GET /v1/tenants/{tenant}/join-tokens`.
public struct JoinTokenList: Codable, Sendable, Hashable {
    public var tokens: [JoinTokenSummary]
    public init(tokens: [JoinTokenSummary]) { self.tokens = tokens }
}
