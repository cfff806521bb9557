/// What the router does when a forwarded call did not get a usable answer: the one place that
/// decides between trying again, writing a submission itself, and giving up. Pure, so the table
/// below is unit-tested line by line.
///
/// | call             | 421 misdirected        | not sent (connect failed) | maybe sent (died mid-call) |
/// |------------------|------------------------|---------------------------|----------------------------|
/// | submit (one)     | retry, then write      | write                     | write (same task id)       |
/// | submit (batch)   | retry, then write      | write                     | fail 502                   |
/// | read (GET)       | retry, then fail 503   | retry, then fail 503      | retry, then fail 503       |
/// | other write      | retry, then fail 503   | retry, then fail 503      | fail 502                   |
///
/// "Write" is the no-owner path: the router runs the submit script itself, which is all a shard
/// would do for a submission. A single submission carries a task id the router chose before the
/// first try, so writing it after a call that may have reached the shard finds the first write
/// instead of making a twin. A batch has no such identity, so a batch that may have been written
/// is reported, not repeated.
enum ForwardPolicy {
    /// The kinds of tenant calls that fail differently.
    enum Call: Equatable {
        case submit
        case submitBatch
        case read
        case otherWrite

        /// Classifies a call under `/v1/tenants/{tenant}/` by method and the rest of its path.
        init(method: String, rest: String) {
            switch (method, rest) {
            case ("POST", "tasks"): self = .submit
            case ("POST", "tasks:batch"): self = .submitBatch
            case ("GET", _), ("HEAD", _): self = .read
            default: self = .otherWrite
            }
        }

        var isSubmission: Bool { self == .submit || self == .submitBatch }
    }

    /// Why the last try did not produce an answer to pass on.
    enum Failure: Equatable {
        /// No live shard holds the slot.
        case noOwner
        /// The shard answered 421: it does not (or no longer) serve the slot.
        case misdirected
        /// The request never left the router (connection refused, connect timeout).
        case notSent
        /// The connection broke after the request may have been delivered.
        case maybeSent
    }

    enum Step: Equatable {
        /// Refresh the owner table and try again (within the budget).
        case retry
        /// Write the submission to Redis here (the no-owner path).
        case writeDirectly
        /// Give up with 503 `no_owner`: nobody serves the slot within the budget.
        case unavailable
        /// Give up with 502 `upstream_failed`: the call may or may not have taken effect.
        case uncertain
    }

    static func next(call: Call, failure: Failure, budgetLeft: Bool) -> Step {
        switch (call, failure) {
        // Submissions and batches are named by the router before the first try, so writing
        // them again after a call that may have arrived finds the first write.
        case (.submit, .notSent), (.submit, .maybeSent), (.submit, .noOwner),
             (.submitBatch, .notSent), (.submitBatch, .maybeSent), (.submitBatch, .noOwner):
            return .writeDirectly
        case (.otherWrite, .maybeSent):
            return .uncertain
        case (.submit, .misdirected), (.submitBatch, .misdirected):
            return budgetLeft ? .retry : .writeDirectly
        case (.read, _), (.otherWrite, _):
            return budgetLeft ? .retry : .unavailable
        }
    }
}
