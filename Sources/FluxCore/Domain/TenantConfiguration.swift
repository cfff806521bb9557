/// The limits and share of one tenant, set by an administrator (`PUT /v1/admin/tenants/{tenant}`).
///
/// `maxQueued` limits the tenant's *outstanding* tasks: everything accepted and not yet finished
/// — waiting (ADMITTED), backing off (RETRY_WAIT), deferred (DEFERRED) or in flight. Counting the
/// in-flight ones is what makes the limit hold at every instant: a failed attempt that goes back
/// to RETRY_WAIT moves between those states without changing the total, so only admission can
/// raise it. Suspended tasks are excluded: they wait for an operator, not for capacity.
public struct TenantConfiguration: Hashable, Sendable {
    /// Hard limit on outstanding tasks (see above); admission beyond it is REJECTED
    /// (`tenant_quota_queued`).
    public var maxQueued: Int
    /// Hard limit on tasks in flight (DISPATCHED or RUNNING): dispatch never exceeds it, the rest
    /// wait. With `maxInFlight == 0` the tenant is paused and nothing it submits could ever run,
    /// so admission REJECTS (`tenant_quota_in_flight`).
    public var maxInFlight: Int
    /// CPU budget in CPU units: the sum of `cpuCost` over the tenant's queued and in-flight tasks
    /// never exceeds it. A submission that would exceed it is REJECTED (`cpu_budget`).
    public var cpuBudget: Int
    /// Weight for fair sharing of dispatches across tenants (deficit round robin quantum), ≥ 1.
    public var weight: Int

    /// Creates a configuration; values are clamped to at least 0 (limits) and 1 (weight).
    public init(maxQueued: Int = 100_000, maxInFlight: Int = 10_000, cpuBudget: Int = 1_000_000, weight: Int = 1) {
        self.maxQueued = max(0, maxQueued)
        self.maxInFlight = max(0, maxInFlight)
        self.cpuBudget = max(0, cpuBudget)
        self.weight = max(1, weight)
    }
}
