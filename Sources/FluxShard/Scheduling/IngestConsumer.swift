import FluxRedis
import FluxRuntime
import Logging

/// Reads the ingest streams of the slots this shard owns through the consumer group `shards`
/// and hands each batch to the driver, waiting until the driver has taken it in: it admits what
/// it holds at most 128 of a tenant a turn (`FairIntake`), and answers a read only while it
/// holds fewer than `DriverLoop.intakeLimit` unadmitted submissions. That wait is the
/// backpressure. An entry stays pending until the transition script XACKs it with its outcome.
///
/// On start it first re-reads its own pending entries (id `0`): entries read by a previous
/// incarnation that crashed before admitting them.
///
/// Every `strandedSweepInterval` it also looks for entries of its slots pending at another
/// consumer. They happen when a former owner's blocking read, issued while it still owned the
/// slot, returns after the handoff: the entry is delivered to a shard that will never admit it,
/// and the new owner, reading only new entries, would never see it. It claims them and re-reads.
///
/// On one Redis server a single blocking `XREADGROUP` on a dedicated connection reads every
/// owned slot's stream. On a Redis Cluster a command names one hash slot, and every slot is
/// its own: a read is one non-blocking `XREADGROUP` per slot, pipelined (the client splits the
/// pipeline by master). It reads the slots whose doorbell rang (`IngestStream.doorbell`: the
/// writer of a submission rings the owner's) and those that had entries at their last read, and
/// waits on the doorbell with `BZPOPMIN` when there are none; every `clusterSweepInterval` it
/// reads every owned slot, for a ring that was lost (a submission written while the slot moved).
struct IngestConsumer: Sendable {
    let services: ShardServices
    let logger: Logger

    func run() async {
        var connection: RedisConnection?
        // Redis Cluster only: the doorbell's dedicated connection, the slots to read next without
        // waiting (rung, or with entries at their last read), and when to read them all.
        var doorbell: RedisConnection?
        var hot: Set<Int> = []
        var nextSweep = ContinuousClock.now
        var groupsReady: Set<Int> = []
        // Slots whose own pending entries (delivered earlier, never acknowledged) were re-read.
        var caughtUp: Set<Int> = []
        var lastSweep = ContinuousClock.now
        // Slots taken over recently get a second look once the former owner's last blocking
        // read must have returned (it blocks at most `blockMs`).
        var secondLook: [Int: ContinuousClock.Instant] = [:]
        var known: Set<Int> = []
        let polled = services.redis.oneHashSlotPerCommand
        while !Task.isCancelled {
            do {
                // Submissions the driver took in and then dropped are pending here: read them again.
                if services.driver.takeRereadRequest() { caughtUp = [] }
                let conn: any RedisCommandSender = polled ? services.redis : try await connectionOrNew(&connection)
                let slots = services.driver.activeSlots
                for slot in slots where !known.contains(slot) { secondLook[slot] = .now + .milliseconds(Self.blockMs + 200) }
                known = Set(slots)
                try await ensureGroups(slots.filter { !groupsReady.contains($0) }, on: conn)
                groupsReady.formUnion(slots)
                if ContinuousClock.now - lastSweep >= Self.strandedSweepInterval {
                    lastSweep = .now
                    secondLook = [:]
                    caughtUp.subtract(try await claimStranded(slots, on: conn))
                } else {
                    let due = secondLook.filter { $0.value <= .now }.map(\.key).filter(known.contains)
                    if !due.isEmpty {
                        for slot in due { secondLook[slot] = nil }
                        caughtUp.subtract(try await claimStranded(due, on: conn))
                    }
                }
                let behind = slots.filter { !caughtUp.contains($0) }
                var toRead = behind.isEmpty ? slots : behind
                if polled, behind.isEmpty {
                    if ContinuousClock.now >= nextSweep {
                        nextSweep = .now + Self.clusterSweepInterval
                    } else if hot.isEmpty {
                        hot = try await waitForDoorbell(&doorbell, until: nextSweep).intersection(slots)
                        continue
                    } else {
                        // Rings of other slots while these stay busy are read in the same pass.
                        hot.formUnion(Self.slots(rung: try await services.redis.send(
                            RedisCommand("ZPOPMIN", IngestStream.doorbell(shardID: services.shardID), services.configuration.slotCount))))
                        toRead = slots.filter(hot.contains)
                    }
                }
                let batch = try await read(toRead, backlog: !behind.isEmpty, secondLookPending: !secondLook.isEmpty, on: conn)
                if !behind.isEmpty && batch.isEmpty { caughtUp.formUnion(behind) }
                caughtUp.formIntersection(slots)
                if polled, behind.isEmpty { hot = Set(batch.map(\.slot)) }
                guard !batch.isEmpty else { continue }
                let tasks = try await fetch(batch)
                // Not durable (Redis failed mid-write): the entries stay pending; read them again.
                if await !services.driver.ingest(tasks) {
                    caughtUp = []
                    try await Task.sleep(for: .milliseconds(200))
                }
            } catch {
                logger.warning("ingest read failed; retrying", metadata: ["error": "\(error)"])
                await connection?.close()
                connection = nil
                await doorbell?.close()
                doorbell = nil
                groupsReady = []
                caughtUp = []
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await connection?.close()
        await doorbell?.close()
    }

    /// How often entries stranded at a former owner are looked for.
    static let strandedSweepInterval: Duration = .seconds(2)
    /// Longest a read for new entries blocks.
    static let blockMs = 1_000
    /// On a Redis Cluster, how often every owned slot is read whether its doorbell rang or not:
    /// the latency of a submission whose ring was lost, against one `XREADGROUP` per owned slot
    /// each time (512 a second for 128 slots).
    static let clusterSweepInterval: Duration = .milliseconds(250)

    /// Waits (`BZPOPMIN`) until this shard's doorbell rings or `deadline` passes; returns the
    /// slots rung (the whole set is taken, so each ring is read once).
    private func waitForDoorbell(_ connection: inout RedisConnection?, until deadline: ContinuousClock.Instant) async throws -> Set<Int> {
        let key = IngestStream.doorbell(shardID: services.shardID)
        if connection == nil { connection = try await services.redis.makeDedicatedConnection(forKey: key) }
        guard let bell = connection else { return [] }
        let wait = max(Duration.milliseconds(10), deadline - .now)
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        let first = try await bell.send(RedisCommand("BZPOPMIN", key, String(format: "%.3f", seconds)))
        guard let popped = first.array, popped.count == 3, let slot = popped[1].string.flatMap({ Int($0) }) else { return [] }
        let rest = try await bell.send(RedisCommand("ZPOPMIN", key, services.configuration.slotCount))
        return Self.slots(rung: rest).union([slot])
    }

    /// The slots of a `ZPOPMIN` reply (member, score, member, score, …).
    static func slots(rung reply: RedisReply) -> Set<Int> {
        Set((reply.array ?? []).enumerated().compactMap { index, member in index % 2 == 0 ? member.string.flatMap { Int($0) } : nil })
    }

    /// Claims entries of `slots` pending at other consumers; returns the slots that had some.
    private func claimStranded(_ slots: [Int], on connection: any RedisCommandSender) async throws -> Set<Int> {
        guard !slots.isEmpty else { return [] }
        let summaries = try await connection.pipeline(slots.map { RedisCommand("XPENDING", SlotKeys(slot: $0).ingest, IngestStream.group) })
        var stranded: Set<Int> = []
        for (slot, summary) in zip(slots, summaries) {
            // [count, first, last, [[consumer, count], …]]
            let consumers = summary.array.flatMap { $0.count == 4 ? $0[3].array : nil } ?? []
            if consumers.contains(where: { $0.array?.first?.string.map { $0 != services.shardID } ?? false }) { stranded.insert(slot) }
        }
        for slot in stranded.sorted() {
            let claimed = try await IngestClaim.claimAll(redis: services.redis, slot: slot, consumer: services.shardID)
            logger.notice("claimed ingest entries stranded at another consumer", metadata: ["slot": "\(slot)", "entries": "\(claimed)"])
        }
        return stranded
    }

    private func connectionOrNew(_ connection: inout RedisConnection?) async throws -> RedisConnection {
        if let connection { return connection }
        // One XREADGROUP reads every owned slot's stream: one server only, for now (on a Redis
        // Cluster each slot's stream is in its own hash slot; docs/redis-schema.md#redis-cluster).
        let made = try await services.redis.makeDedicatedConnection(forKey: SlotKeys(slot: 0).ingest)
        connection = made
        return made
    }

    private func ensureGroups(_ slots: [Int], on connection: any RedisCommandSender) async throws {
        guard !slots.isEmpty else { return }
        let commands = slots.map { RedisCommand("XGROUP", "CREATE", SlotKeys(slot: $0).ingest, IngestStream.group, "0", "MKSTREAM") }
        for reply in try await connection.pipeline(commands) {
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
                throw RedisError(code: .server, message: message)
            }
        }
    }

    /// One XREADGROUP over every owned slot: `0` (own pending entries) while catching up,
    /// then `>` (new entries), blocking up to a second.
    private func read(_ slots: [Int], backlog: Bool, secondLookPending: Bool, on connection: any RedisCommandSender) async throws -> [(slot: Int, entry: String, task: String)] {
        guard !slots.isEmpty else {
            try await Task.sleep(for: .milliseconds(200))
            return []
        }
        if services.redis.oneHashSlotPerCommand { return try await readEachSlot(slots, backlog: backlog) }
        var command = RedisCommand("XREADGROUP", "GROUP", IngestStream.group, services.shardID, "COUNT", services.configuration.ingestBatch)
        if !backlog {
            command.append("BLOCK")
            // Short while a taken-over slot awaits its second look, so the look is not late.
            command.append(secondLookPending ? 200 : Self.blockMs)
        }
        command.append("STREAMS")
        for slot in slots { command.append(SlotKeys(slot: slot).ingest) }
        for _ in slots { command.append(backlog ? "0" : ">") }
        let reply = try await connection.send(command)
        return Self.entries(reply, slots: slots)
    }

    /// A Redis Cluster's read: one non-blocking `XREADGROUP` per slot in one pipeline, each for
    /// a quarter of the batch (128 by default): a busy slot (one tenant's flood) is read 128 at a
    /// time, and a read holds at most that many per owned slot. A share of one batch split over
    /// the slots (4 each for 128 slots) starved the busy slot: submit→dispatch p50 208 ms at
    /// 1,000 tasks/s.
    private func readEachSlot(_ slots: [Int], backlog: Bool) async throws -> [(slot: Int, entry: String, task: String)] {
        let count = max(16, services.configuration.ingestBatch / 4)
        let replies = try await services.redis.pipeline(slots.map { slot in
            RedisCommand(
                "XREADGROUP", "GROUP", IngestStream.group, services.shardID, "COUNT", count,
                "STREAMS", SlotKeys(slot: slot).ingest, backlog ? "0" : ">")
        })
        var entries: [(slot: Int, entry: String, task: String)] = []
        for (slot, reply) in zip(slots, replies) {
            if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
            entries += Self.entries(reply, slots: [slot])
        }
        return entries
    }

    static func entries(_ reply: RedisReply, slots: [Int]) -> [(slot: Int, entry: String, task: String)] {
        var slotByKey: [String: Int] = [:]
        for slot in slots { slotByKey[SlotKeys(slot: slot).ingest] = slot }
        var result: [(slot: Int, entry: String, task: String)] = []
        for stream in reply.array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string, let slot = slotByKey[key] else { continue }
            for entry in parts[1].array ?? [] {
                guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { continue }
                let fields = pair[1].array?.compactMap(\.string) ?? []
                guard let index = fields.firstIndex(of: "task"), index + 1 < fields.count else { continue }
                result.append((slot, id, fields[index + 1]))
            }
        }
        return result
    }

    private func fetch(_ batch: [(slot: Int, entry: String, task: String)]) async throws -> [IngestedTask] {
        let replies = try await services.redis.pipeline(batch.map { IngestedTask.fetchCommand(slot: $0.slot, taskID: $0.task) })
        return zip(batch, replies).map { item, reply in
            IngestedTask(slot: item.slot, entryID: item.entry, taskID: item.task, fields: IngestedTask.fields(from: reply))
        }
    }
}
