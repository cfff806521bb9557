/// The body of `PUT /v1/tenants/{tenant}/desired/{name}`: a state the tenant wants its nodes
/// kept in (docs/reconciliation.md).
///
/// `check` answers "is this node in the desired state?" by its exit code (0 = yes); `apply`
/// brings a drifted node there. Changing either starts a new generation. Decoding is strict and
/// `validate()` checks every range, like a task submission.
public struct DesiredStateSpec: Codable, Sendable, Hashable {
    /// Which nodes: by zone and labels (all must match) …
    public var selector: DesiredSelector?
    /// … or by name (give one or the other; neither means every node of the tenant).
    public var nodes: [String]?
    public var check: [String]
    public var apply: [String]
    /// Extra environment for both commands.
    public var env: [String: String]
    public var intervalSeconds: Int
    public var verifyDeadlineSeconds: Int
    public var verifyEverySeconds: Int
    public var maxParallel: Int
    public var maxParallelPerDomain: Int
    /// Priority class of the remediations (0 most urgent … 10).
    public var priority: Int
    /// Priority class of the checks; they are cheap and frequent, so less urgent by default.
    public var checkPriority: Int
    /// CPU units a remediation holds; checks hold none.
    public var cpuCost: Int
    public var checkTimeoutSeconds: Int
    public var applyTimeoutSeconds: Int
    /// Failed remediations in one zone that halt remediation there (`HALTED_DOMAIN`).
    public var haltDomainAfterFailures: Int
    /// Backoff between failed remediations of a node; `maxAttempts` per drift.
    public var retry: RetrySpec?
    public var paused: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case selector, nodes, check, apply, env, intervalSeconds, verifyDeadlineSeconds, verifyEverySeconds
        case maxParallel, maxParallelPerDomain, priority, checkPriority, cpuCost, checkTimeoutSeconds
        case applyTimeoutSeconds, haltDomainAfterFailures, retry, paused
    }

    public init(
        selector: DesiredSelector? = nil, nodes: [String]? = nil, check: [String], apply: [String],
        env: [String: String] = [:], intervalSeconds: Int = 60, verifyDeadlineSeconds: Int = 300, verifyEverySeconds: Int = 10,
        maxParallel: Int = 10, maxParallelPerDomain: Int = 2, priority: Int = 3, checkPriority: Int = 6, cpuCost: Int = 1,
        checkTimeoutSeconds: Int = 30, applyTimeoutSeconds: Int = 300, haltDomainAfterFailures: Int = 3,
        retry: RetrySpec? = nil, paused: Bool = false
    ) {
        self.selector = selector
        self.nodes = nodes
        self.check = check
        self.apply = apply
        self.env = env
        self.intervalSeconds = intervalSeconds
        self.verifyDeadlineSeconds = verifyDeadlineSeconds
        self.verifyEverySeconds = verifyEverySeconds
        self.maxParallel = maxParallel
        self.maxParallelPerDomain = maxParallelPerDomain
        self.priority = priority
        self.checkPriority = checkPriority
        self.cpuCost = cpuCost
        self.checkTimeoutSeconds = checkTimeoutSeconds
        self.applyTimeoutSeconds = applyTimeoutSeconds
        self.haltDomainAfterFailures = haltDomainAfterFailures
        self.retry = retry
        self.paused = paused
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DesiredStateSpec(check: [], apply: [])
        selector = try c.decodeIfPresent(DesiredSelector.self, forKey: .selector)
        nodes = try c.decodeIfPresent([String].self, forKey: .nodes)
        check = try c.decode([String].self, forKey: .check)
        apply = try c.decode([String].self, forKey: .apply)
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        intervalSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .intervalSeconds) ?? d.intervalSeconds
        verifyDeadlineSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .verifyDeadlineSeconds) ?? d.verifyDeadlineSeconds
        verifyEverySeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .verifyEverySeconds) ?? d.verifyEverySeconds
        maxParallel = try c.decodeIntegerIfPresent(Int.self, forKey: .maxParallel) ?? d.maxParallel
        maxParallelPerDomain = try c.decodeIntegerIfPresent(Int.self, forKey: .maxParallelPerDomain) ?? d.maxParallelPerDomain
        priority = try c.decodeIntegerIfPresent(Int.self, forKey: .priority) ?? d.priority
        checkPriority = try c.decodeIntegerIfPresent(Int.self, forKey: .checkPriority) ?? d.checkPriority
        cpuCost = try c.decodeIntegerIfPresent(Int.self, forKey: .cpuCost) ?? d.cpuCost
        checkTimeoutSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .checkTimeoutSeconds) ?? d.checkTimeoutSeconds
        applyTimeoutSeconds = try c.decodeIntegerIfPresent(Int.self, forKey: .applyTimeoutSeconds) ?? d.applyTimeoutSeconds
        haltDomainAfterFailures = try c.decodeIntegerIfPresent(Int.self, forKey: .haltDomainAfterFailures) ?? d.haltDomainAfterFailures
        retry = try c.decodeIfPresent(RetrySpec.self, forKey: .retry)
        paused = try c.decodeIfPresent(Bool.self, forKey: .paused) ?? false
    }
}

/// Nodes by failure domain and labels.
public struct DesiredSelector: Codable, Sendable, Hashable {
    public var zone: String?
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey, CaseIterable { case zone, labels }

    public init(zone: String? = nil, labels: [String: String] = [:]) {
        self.zone = zone
        self.labels = labels
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        zone = try c.decodeIfPresent(String.self, forKey: .zone)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    /// True when a node in `zone` with `labels` is selected.
    public func matches(zone nodeZone: String, labels nodeLabels: [String: String]) -> Bool {
        if let zone, zone != nodeZone { return false }
        return labels.allSatisfy { nodeLabels[$0.key] == $0.value }
    }
}
