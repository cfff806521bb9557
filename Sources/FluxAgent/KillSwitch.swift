import Synchronization

/// A one-shot trigger that ends one running attempt. The first `trip` wins and fixes the reason;
/// later trips are ignored. Created before the process is spawned, so a `cancel` that arrives
/// before the spawn still takes effect (the process is then never started).
public final class KillSwitch: Sendable {
    /// Why an attempt was killed.
    public enum Reason: Sendable, Hashable {
        case timedOut
        case cancelled
    }

    private struct State {
        var reason: Reason?
        var waiters: [Int: CheckedContinuation<Reason?, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Trips the switch; returns false if it had already been tripped.
    @discardableResult
    public func trip(_ reason: Reason) -> Bool {
        let waiters: [CheckedContinuation<Reason?, Never>]? = state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters?.forEach { $0.resume(returning: reason) }
        return waiters != nil
    }

    /// The reason, once tripped.
    public var reason: Reason? { state.withLock { $0.reason } }

    /// Waits until tripped; returns nil if the waiting task is cancelled first.
    func wait() async -> Reason? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Reason?? = state.withLock { state in
                    if let reason = state.reason { return .some(reason) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
