/// The persisted state of one (desired item, node) pair: everything the planner needs to pick up
/// exactly where a crashed or former owner left off.
///
/// The sequence numbers are what make the engine restart-safe: a check or remediation is named by
/// (generation, node, kind, sequence), so a new owner that re-plans from the same record asks for
/// the same task again and the submission's idempotency returns the first one instead of a twin.
public struct NodeReconciliation: Hashable, Sendable, Codable {
    public var state: ReconcileState
    public var reason: ReconcileReason
    /// Generation of the item this record speaks for.
    public var generation: Int
    /// Failure domain (zone) of the node when last seen.
    public var zone: String
    /// Checks issued in this generation; the next check is number `checkSeq + 1`.
    public var checkSeq: Int
    /// Drifts detected in this generation; remediation `n` belongs to drift `n`.
    public var driftSeq: Int
    /// Remediations of this generation that failed since the node was last in sync.
    public var failures: Int
    /// The check or apply task in flight, if any.
    public var taskID: String?
    public var lastRemediationTaskID: String?
    public var lastCheckAtMs: Int64?
    public var lastDriftAtMs: Int64?
    /// When the current drift was first seen (start of `flux_reconcile_seconds`).
    public var driftStartedAtMs: Int64?
    /// When the next check (or verification check, or retry) is due.
    public var nextCheckAtMs: Int64
    public var verifyDeadlineAtMs: Int64?
    /// Last time the node was seen connected.
    public var lastSeenAtMs: Int64
    /// Exit code of the last finished check or apply, for the reason shown to people.
    public var lastExitCode: Int?
    /// True when the last remediation failed on the node itself (the apply ran and failed, or
    /// was not verified in time), as opposed to never being admitted or run: only such failures
    /// speak about the zone and count toward halting it.
    public var failedOnNode: Bool

    /// A node whose remediation failed on the node and that is not in sync since: what halts a zone.
    public var countsAgainstZone: Bool {
        failures > 0 && failedOnNode && state != .inSync && state != .nodeGone && state != .paused
    }

    public init(generation: Int, zone: String, nowMs: Int64) {
        state = .unknown
        reason = .discovered
        self.generation = generation
        self.zone = zone
        checkSeq = 0
        driftSeq = 0
        failures = 0
        failedOnNode = false
        nextCheckAtMs = nowMs
        lastSeenAtMs = nowMs
    }
}

/// The knobs of one desired item that the planner obeys (the API's spec, in milliseconds).
public struct ReconcilePolicy: Hashable, Sendable {
    public var generation: Int
    public var interval: Int64
    public var verifyDeadline: Int64
    public var verifyEvery: Int64
    public var maxParallel: Int
    public var maxParallelPerDomain: Int
    /// Failed remediations in one zone (current generation) that halt remediation there.
    public var haltDomainAfterFailures: Int
    /// Backoff between failed remediations of one node; its `maxAttempts` caps remediations
    /// per drift before the node stays FAILED (`retries_exhausted`) until a `:reconcile`.
    public var retry: BackoffPolicy
    public var paused: Bool
    /// A `:reconcile` request: nodes not checked since then are checked now.
    public var checkRequestedAtMs: Int64
    /// A node away this long is NODE_GONE.
    public var nodeGoneAfter: Int64

    public init(
        generation: Int, intervalMs: Int64, verifyDeadlineMs: Int64, verifyEveryMs: Int64, maxParallel: Int,
        maxParallelPerDomain: Int, haltDomainAfterFailures: Int = 3,
        retry: BackoffPolicy = BackoffPolicy(kind: .exponential, baseDelay: .seconds(10), maxDelay: .seconds(600), maxAttempts: 5),
        paused: Bool = false, checkRequestedAtMs: Int64 = 0, nodeGoneAfterMs: Int64? = nil
    ) {
        self.generation = generation
        self.interval = max(1, intervalMs)
        self.verifyDeadline = max(1, verifyDeadlineMs)
        self.verifyEvery = max(1, verifyEveryMs)
        self.maxParallel = max(1, maxParallel)
        self.maxParallelPerDomain = max(1, maxParallelPerDomain)
        self.haltDomainAfterFailures = max(1, haltDomainAfterFailures)
        self.retry = retry
        self.paused = paused
        self.checkRequestedAtMs = checkRequestedAtMs
        self.nodeGoneAfter = nodeGoneAfterMs ?? max(2 * intervalMs, 10_000)
    }
}

/// A node the item's selector matches, as the shard sees it now.
public struct ReconcileNode: Hashable, Sendable {
    public var id: String
    public var zone: String
    /// Connected and not quarantined: new checks and remediations may be sent to it.
    public var available: Bool

    public init(id: String, zone: String, available: Bool) {
        self.id = id
        self.zone = zone
        self.available = available
    }
}

/// What became of a task the planner is waiting for.
public enum ReconcileTaskResult: Hashable, Sendable {
    /// Not finished yet.
    case pending
    /// Ran and exited with this code.
    case exited(Int)
    /// Ended without an exit code (timed out, node lost, rejected, cancelled, deadline), or its
    /// record is gone.
    case errored(String)
}
