/// The Redis key schema of docs/redis-schema.md, in one place. Every key of slot N carries the hash tag
/// `{sN}`, so each Lua script touches one Redis Cluster slot; docs/redis-schema.md mirrors this.
public struct SlotKeys: Sendable, Hashable {
    /// The slot number these keys belong to.
    public let slot: Int
    private let prefix: String

    public init(slot: Int) {
        self.slot = slot
        self.prefix = "ff:{s\(slot)}:"
    }

    /// `SET NX PX` lease whose value is `<shardId>:<epoch>`.
    public var lease: String { prefix + "lease" }
    /// Monotonic fencing counter, `INCR` on every acquisition.
    public var epoch: String { prefix + "epoch" }
    /// A marker the shard writes, then `WAIT`s behind, to learn whether a replica has caught up
    /// with the slot's master (`--redis-ack replica`, after a flush's `WAIT` timed out);
    /// expires after 60 s.
    public var replicationBarrier: String { prefix + "barrier" }
    /// Stream of accepted submissions, consumed by the group `IngestStream.group`.
    public var ingest: String { prefix + "ingest" }
    /// Admitted waiting tasks; score = `ReadyScore` (priority class, then enqueue time).
    public var ready: String { prefix + "ready" }
    /// Tasks waiting out a backoff or a deferral; score = due time in ms.
    public var delayed: String { prefix + "delayed" }
    /// Dispatched tasks; score = the attempt's timeout deadline in ms.
    public var inflight: String { prefix + "inflight" }
    /// Idempotency keys `<tenant>:<key>`; score = expiry in ms.
    public var idempotency: String { prefix + "idem" }
    /// `<tenant>:<key>` → `<taskId> <bodySHA256>`.
    public var idempotencyValues: String { prefix + "idemv" }
    /// Tenants whose tasks live in this slot.
    public var tenants: String { prefix + "tenants" }
    /// Tenant → tasks accepted and not yet terminal: the live count `maxQueued` is checked
    /// against at the door (kept by the submit, door and transition scripts).
    public var live: String { prefix + "live" }
    /// The storage ledger: `<tenant>` → bytes of its unfinished tasks, `<tenant>@<day>` → bytes
    /// of its finished tasks whose records expire that Unix day (`DoorScript`).
    public var stored: String { prefix + "stored" }
    /// Every state change of the slot's tasks, newest last, trimmed to about
    /// `SlotKeys.eventsMaxLength` entries: what `GET /v1/tenants/{t}/events` streams
    /// (fields `tenant`, `task`, `from`, `to`, `via`, `reason`, `node`, `attempt`, `at`).
    public var events: String { prefix + "events" }
    /// About how many entries a slot's `events` stream keeps (XADD `MAXLEN ~`): a watcher that
    /// falls further behind than this resumes from the oldest entry still there.
    public static let eventsMaxLength = 1_000

    /// The task record hash.
    public func task(_ id: String) -> String { prefix + "task:" + id }
    /// The task's timeline stream (MAXLEN 200, TTL 24 h).
    public func timeline(_ id: String) -> String { prefix + "tl:" + id }
    /// Tenant settings and hashed tokens.
    public func tenantConfig(_ tenant: String) -> String { prefix + "t:" + tenant + ":config" }
    /// The tenant's tasks by creation time, for listing with a cursor.
    public func tenantTasks(_ tenant: String) -> String { prefix + "t:" + tenant + ":tasks" }
    /// Nodes the tenant's agents have announced.
    public func tenantNodes(_ tenant: String) -> String { prefix + "t:" + tenant + ":nodes" }
    /// One node's descriptor and persisted health.
    public func node(_ tenant: String, _ node: String) -> String { prefix + "t:" + tenant + ":node:" + node }

    /// One join token: its SHA-256, uses left, node pattern; expires with the token.
    public func joinToken(_ tenant: String, _ id: String) -> String { prefix + "t:" + tenant + ":join:" + id }
    /// Ids of the tenant's join tokens (members may outlive an expired token; readers prune).
    public func tenantJoinTokens(_ tenant: String) -> String { prefix + "t:" + tenant + ":joins" }
    /// Node → JSON of the certificate last issued to it (serial, not-after, when).
    public func tenantCertificates(_ tenant: String) -> String { prefix + "t:" + tenant + ":certs" }

    /// Desired states of this slot as `<tenant>/<name>`: what the owner's reconciler walks.
    public var desiredIndex: String { prefix + "desired" }
    /// Names of the tenant's desired states.
    public func tenantDesired(_ tenant: String) -> String { prefix + "t:" + tenant + ":desired" }
    /// One desired state: spec JSON, generation, uid, timestamps (docs/reconciliation.md).
    public func desired(_ tenant: String, _ name: String) -> String { prefix + "t:" + tenant + ":desired:" + name }
    /// Node → JSON reconciliation record of one desired state.
    public func desiredNodes(_ tenant: String, _ name: String) -> String { desired(tenant, name) + ":nodes" }
    /// The (desired state, node) timeline stream (MAXLEN 200, TTL 24 h).
    public func desiredTimeline(_ tenant: String, _ name: String, _ node: String) -> String {
        desired(tenant, name) + ":tl:" + node
    }
}

/// Cluster-wide keys (no slot).
public enum ClusterKeys {
    /// Hash: slot count, created, schema version — written once at cluster creation.
    public static let cluster = "ff:cluster"
    /// Zset of shard ids, score = last heartbeat ms.
    public static let members = "ff:members"
    /// Set of tenants being deleted: their slot's owner removes their keys (`TenantSweeper`).
    public static let deleting = "ff:deleting"
    /// Stream of admin actions (`TenantAdmin.audit`), newest 10,000 kept.
    public static let audit = "ff:audit"
    /// Hash describing one shard.
    public static func member(_ id: String) -> String { "ff:member:" + id }
    /// String: the operator's mode override of shard `id` (`NORMAL`, `DEGRADED`, `READ_ONLY`),
    /// absent when none; the shard re-applies it when it starts.
    public static func modeOverride(_ id: String) -> String { "ff:mode_override:" + id }
    /// Zset of revoked agent certificate serials (hex), score = the certificate's not-after (ms):
    /// once it has expired the revocation is dropped. Same hash tag as the version, so one script
    /// writes both (`RevocationScripts`).
    public static let revokedSerials = "ff:{revocations}:serials"
    /// Counter bumped by every revocation: routers poll it and reload the set when it moves.
    public static let revocationsVersion = "ff:{revocations}:version"
}

/// Naming of the ingest stream's consumer group.
public enum IngestStream {
    /// Every shard consumes through this one group; the owner of a slot is its only reader.
    public static let group = "shards"

    /// The doorbell of `shardID` on a Redis Cluster: a sorted set of the FluxForge slots (member,
    /// score 0) whose ingest stream got an entry since the shard last looked. A command names one
    /// hash slot on a cluster, so a shard cannot block on all its slots' streams at once: the
    /// writer of a submission rings the owner's doorbell after writing, and the owner waits on
    /// it with `BZPOPMIN` (`IngestConsumer`). A set, so it never holds more than the slot count.
    public static func doorbell(shardID: String) -> String { "ff:{doorbell:\(shardID)}" }
}

/// Score of a task in `ready`: priority class first, then enqueue time, both exact in a double.
///
/// `class · 10^13 + enqueuedMs` stays below 2^53 for classes 0…10 and any date before year 2286,
/// so `ZRANGE … BYSCORE` returns tasks in the order the scheduler would pick them without aging.
public enum ReadyScore {
    public static let classStride: Int64 = 10_000_000_000_000

    public static func score(priority: Int, enqueuedAtMs: Int64) -> Int64 {
        Int64(priority) * classStride + enqueuedAtMs
    }

    public static func split(_ score: Int64) -> (priority: Int, enqueuedAtMs: Int64) {
        (Int(score / classStride), score % classStride)
    }
}
