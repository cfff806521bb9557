/// A one-shot trigger that ends one running attempt. The first `trip` wins and fixes the reason;
/// later trips are ignored. Created before the process is spawned, so a `cancel` that arrives
/// before the spawn still takes effect (the process is then never started).
public final class KillSwitch: Sendable {
    /// Why an attempt was killed.
    public enum Reason: Sendable, Hashable {
        /// Its `timeoutMs` passed.
        case timedOut
        /// The server sent `cancel`.
        case cancelled
        /// The agent is shutting down and the grace period is over.
        case agentShutdown
    }

    private let shot = OneShot<Reason>()

    /// An untripped switch.
    public init() {}

    /// Trips the switch; returns false if it had already been tripped.
    @discardableResult
    public func trip(_ reason: Reason) -> Bool { shot.fire(reason) }

    /// The reason, once tripped.
    public var reason: Reason? { shot.value }

    /// Waits until tripped; returns nil if the waiting task is cancelled first.
    func wait() async -> Reason? { await shot.wait() }
}
