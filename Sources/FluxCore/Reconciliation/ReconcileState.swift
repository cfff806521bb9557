/// Where one node stands with one desired state (docs/reconciliation.md has the diagram).
///
/// ```
/// UNKNOWN ─▶ CHECKING ─▶ IN_SYNC ─(interval)─▶ CHECKING
///                 └────▶ DRIFTED ─▶ REMEDIATING ─▶ VERIFYING ─▶ IN_SYNC
///                          │  ▲           │             └──────▶ FAILED ─(backoff)─▶ CHECKING
///                          ▼  │           └────────────────────▶ FAILED
///                      HALTED_DOMAIN
/// any ─▶ PAUSED (item paused) ─▶ UNKNOWN;  any ─▶ NODE_GONE (node away) ─▶ UNKNOWN
/// ```
public enum ReconcileState: String, Hashable, Sendable, CaseIterable, Codable {
    /// Not checked yet in this generation (or again after a pause, a return, a check error).
    case unknown = "UNKNOWN"
    /// A check task is out.
    case checking = "CHECKING"
    /// The last check passed.
    case inSync = "IN_SYNC"
    /// The last check failed; waiting for a remediation slot.
    case drifted = "DRIFTED"
    /// Drifted, but remediation in the node's failure domain is halted.
    case haltedDomain = "HALTED_DOMAIN"
    /// An apply task is out.
    case remediating = "REMEDIATING"
    /// The apply succeeded; checks run until one passes or the verify deadline passes.
    case verifying = "VERIFYING"
    /// The remediation failed or was not verified in time; retried after a backoff.
    case failed = "FAILED"
    /// The item is paused: nothing new runs.
    case paused = "PAUSED"
    /// The node has been away longer than the grace period.
    case nodeGone = "NODE_GONE"

    /// States that count against `maxParallel`: the node is being changed and not yet verified.
    public var isRemediating: Bool { self == .remediating || self == .verifying }
}

/// Why a node entered its state; the stable codes of the (item, node) timeline.
public enum ReconcileReason: String, Hashable, Sendable, Codable {
    case discovered
    case checkDue = "check_due"
    case checkRequested = "check_requested"
    case checkPassed = "check_passed"
    case driftDetected = "drift_detected"
    case checkError = "check_error"
    case remediationStarted = "remediation_started"
    case applySucceeded = "apply_succeeded"
    case applyFailed = "apply_failed"
    case applyNotRun = "apply_not_run"
    case verifyPending = "verify_pending"
    case verified
    case verifyDeadline = "verify_deadline"
    case retriesExhausted = "retries_exhausted"
    case retryDue = "retry_due"
    case domainHalted = "domain_halted"
    case domainResumed = "domain_resumed"
    case paused
    case resumed
    case nodeGone = "node_gone"
    case nodeReturned = "node_returned"
    case generationChanged = "generation_changed"
}
