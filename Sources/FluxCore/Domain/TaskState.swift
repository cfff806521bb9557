/// The lifecycle of a task (docs/scheduler-design.md). Raw values are the uppercase names written to Redis and
/// the timeline, so they must never change.
///
/// ```
/// QUEUED ─▶ ADMITTED ─▶ DISPATCHED ─▶ RUNNING ─▶ SUCCEEDED | FAILED | VERIFYING ─▶ VERIFIED
///   │          │            │            └─▶ RETRY_WAIT ─▶ ADMITTED      (backoff, then waits again)
///   │          │            └─────────────▶ SUSPENDED ─▶ QUEUED         (poison; operator resumes)
///   ├─▶ REJECTED (hard limit)   ├─▶ DEFERRED ─▶ QUEUED (soft limit; admission reruns)
///   └─▶ SHED (self-protection)  └─▶ CANCELLED | DEADLINE_EXCEEDED from every non-terminal state
/// ```
public enum TaskState: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case queued = "QUEUED"
    case admitted = "ADMITTED"
    case dispatched = "DISPATCHED"
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case rejected = "REJECTED"
    case deferred = "DEFERRED"
    case retryWait = "RETRY_WAIT"
    case shed = "SHED"
    case suspended = "SUSPENDED"
    case cancelled = "CANCELLED"
    case deadlineExceeded = "DEADLINE_EXCEEDED"
    case verifying = "VERIFYING"
    case verified = "VERIFIED"

    /// True for states a task never leaves.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .rejected, .shed, .cancelled, .deadlineExceeded, .verified: true
        default: false
        }
    }

    /// True while an agent holds (or may hold) an attempt of the task.
    public var isInFlight: Bool { self == .dispatched || self == .running || self == .verifying }

    /// The states this state may move to. Everything else is illegal.
    public var legalSuccessors: Set<TaskState> {
        Set(Self.allCases.filter { canTransition(to: $0) })
    }

    /// Whether docs/scheduler-design.md allows moving from this state to `next`.
    public func canTransition(to next: TaskState) -> Bool {
        successorMask & (1 << next.ordinal) != 0
    }

    /// Returns `next` if the move is legal; throws `FluxCoreError.illegalTransition` otherwise, so an
    /// illegal change can never be applied by accident.
    public func transition(to next: TaskState) throws(FluxCoreError) -> TaskState {
        guard canTransition(to: next) else { throw .illegalTransition(from: self, to: next) }
        return next
    }

    public var description: String { rawValue }

    /// Position in `allCases`; the bit of this state in successor masks.
    var ordinal: Int {
        switch self {
        case .queued: 0
        case .admitted: 1
        case .dispatched: 2
        case .running: 3
        case .succeeded: 4
        case .failed: 5
        case .rejected: 6
        case .deferred: 7
        case .retryWait: 8
        case .shed: 9
        case .suspended: 10
        case .cancelled: 11
        case .deadlineExceeded: 12
        case .verifying: 13
        case .verified: 14
        }
    }

    private var successorMask: UInt16 { Self.successorTable[ordinal] }

    /// The legal-transition table, one bit mask per state, built once from the readable lists
    /// below so that a check on the hot path is a load and a test. Terminal states have none.
    private static let successorTable: [UInt16] = allCases.map { $0.successors }

    private var successors: UInt16 {
        switch self {
        case .queued: Self.mask(.admitted, .rejected, .deferred, .shed, .cancelled, .deadlineExceeded)
        case .admitted: Self.mask(.dispatched, .shed, .cancelled, .deadlineExceeded)
        case .dispatched:
            Self.mask(.running, .succeeded, .failed, .retryWait, .suspended, .cancelled, .deadlineExceeded, .verifying)
        case .running:
            Self.mask(.succeeded, .failed, .retryWait, .suspended, .cancelled, .deadlineExceeded, .verifying)
        case .verifying: Self.mask(.verified, .failed, .retryWait, .cancelled, .deadlineExceeded)
        case .deferred: Self.mask(.queued, .cancelled, .deadlineExceeded)
        case .retryWait: Self.mask(.admitted, .cancelled, .deadlineExceeded)
        case .suspended: Self.mask(.queued, .cancelled, .deadlineExceeded)
        case .succeeded, .failed, .rejected, .shed, .cancelled, .deadlineExceeded, .verified: 0
        }
    }

    private static func mask(_ states: TaskState...) -> UInt16 {
        states.reduce(0) { $0 | (1 << $1.ordinal) }
    }
}
