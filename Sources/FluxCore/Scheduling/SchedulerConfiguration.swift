/// Every threshold of the scheduler, with documented defaults (`docs/scheduler-design.md`).
public struct SchedulerConfiguration: Hashable, Sendable {
    /// Global cap on waiting (ADMITTED) tasks; at the cap admission sheds the lowest class,
    /// newest first. Default 2,000,000.
    public var maxWaitingTasks = 2_000_000
    /// A waiting task's effective class drops by one (more urgent) per interval. Default 30 s:
    /// a P10 task competes as P0 after 5 minutes.
    public var agingInterval: Duration = .seconds(30)
    /// Waiting tasks above this fraction of `maxWaitingTasks` switch NORMAL → DEGRADED at the next
    /// tick. Default 0.9.
    public var degradedHighWater = 0.9
    /// DEGRADED caused by queue depth returns to NORMAL below this fraction. Default 0.7.
    public var degradedLowWater = 0.7
    /// A Redis latency p99 above this degrades. Default 100 ms.
    public var degradeAboveRedisLatency: Duration = .milliseconds(100)
    /// DEGRADED caused by latency returns below this. Default 50 ms.
    public var recoverBelowRedisLatency: Duration = .milliseconds(50)
    /// The shard's own lag (p99 of how long its work waits to be handled) above which it
    /// degrades, back below half of it: a saturated shard sheds for its own reason
    /// (`overload_shard`), not as if Redis were slow. Default 500 ms.
    public var degradeAboveShardLag: Duration = .milliseconds(500)
    /// In DEGRADED only classes up to this one are admitted. Default P3.
    public var degradedMaxPriority = PriorityClass.p3
    /// A DEFERRED task re-runs admission after this. Default 5 s.
    public var deferRetryInterval: Duration = .seconds(5)
    /// Distinct nodes on which attempts crashed or were lost before a task counts as poison and is
    /// SUSPENDED. Default 3.
    public var poisonDistinctNodes = 3
    /// Health scores are grouped into this many buckets for ranking, so that load decides among
    /// nodes of about equal health. Default 20 (buckets of 0.05).
    public var placementScoreBuckets = 20
    /// Placement looks past at most this many throttled candidates per decision before giving up
    /// until the next tick. Default 64.
    public var maxPlacementSkips = 64
    /// Upper bound on dispatches per tick, bounding the work of one `handle` call. Default 50,000.
    public var maxDispatchesPerTick = 50_000
    /// Node health engine settings.
    public var health = HealthConfiguration()
    /// Failure-domain isolation settings.
    public var domains = FailureDomainConfiguration()

    /// The defaults above.
    public init() {}
}
