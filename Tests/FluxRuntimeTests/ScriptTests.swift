import FluxAPI
import FluxRedis
import FluxRuntime
import FluxTesting
import Testing

/// The Lua scripts against a real Redis: what a submission writes, idempotency, fencing.
@Suite("Redis scripts")
struct ScriptTests {
    let slotCount = 256

    private func withRedis<T>(_ body: (RedisClient) async throws -> T) async throws -> T {
        let client = RedisClient(configuration: try await TestDatabase.isolated())
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// Takes the lease of the tenant's slot as shard `s1` and reads its ingest entries as the
    /// shard's consumer would (so the transitions under test may XACK them).
    private func holdSlotAndReadIngest(
        _ redis: RedisClient, tenant: String
    ) async throws -> (slot: Int, keys: SlotKeys, leases: SlotLeases, entries: [String]) {
        let slot = Slotting.slot(forTenant: tenant, slotCount: slotCount)
        let keys = SlotKeys(slot: slot)
        let leases = SlotLeases(shardID: "s1", ttlMs: 60_000, redis: redis)
        try await leases.acquire([slot])
        _ = try await redis.send(RedisCommand("XGROUP", "CREATE", keys.ingest, IngestStream.group, "0"))
        let read = try await redis.send(RedisCommand("XREADGROUP", "GROUP", IngestStream.group, "s1", "STREAMS", keys.ingest, ">"))
        return (slot, keys, leases, read.array?.first?.array?[1].array?.compactMap { $0.array?.first?.string } ?? [])
    }

    @Test func submissionWritesRecordIngestTimelineAndIndex() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            let outcome = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["echo", "hi"]), idempotencyKey: nil, nowMs: 1_000)
            guard case .created(let id) = outcome else { Issue.record("not created: \(outcome)"); return }
            let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: slotCount))
            let view = try #require(try await store.task(tenant: "acme", id: id))
            #expect(view.state == "QUEUED")
            #expect(view.command == ["echo", "hi"])
            #expect(try await redis.send(RedisCommand("XLEN", keys.ingest)).int == 1)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.tenantTasks("acme"), id)).string == "1000")
            let timeline = try await store.timeline(tenant: "acme", id: id)
            #expect(timeline.map(\.to) == ["QUEUED"])
            #expect(try await store.task(tenant: "other", id: id) == nil)
        }
    }

    @Test func idempotencyKeyReplaysSameBodyAndRejectsDifferentBody() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            let body = TaskSubmission(command: ["date"])
            let first = try await store.submit(tenant: "acme", submission: body, idempotencyKey: "k1", nowMs: 1_000)
            guard case .created(let id) = first else { Issue.record("not created"); return }
            #expect(try await store.submit(tenant: "acme", submission: body, idempotencyKey: "k1", nowMs: 2_000) == .replay(id))
            let other = TaskSubmission(command: ["date", "-u"])
            #expect(try await store.submit(tenant: "acme", submission: other, idempotencyKey: "k1", nowMs: 3_000) == .conflict(id))
            // Another tenant's identical key is a different key.
            guard case .created = try await store.submit(tenant: "bolt", submission: body, idempotencyKey: "k1", nowMs: 3_000) else {
                Issue.record("tenants share idempotency keys"); return
            }
        }
    }

    @Test func chosenTaskIDMakesARepeatedSubmissionFindTheFirst() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            let id = TaskIDs.generate()
            let body = TaskSubmission(command: ["date"])
            #expect(try await store.submit(tenant: "acme", submission: body, idempotencyKey: nil, taskID: id, nowMs: 1_000) == .created(id))
            #expect(try await store.submit(tenant: "acme", submission: body, idempotencyKey: nil, taskID: id, nowMs: 1_500) == .existing(id))
            let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: slotCount))
            #expect(try await redis.send(RedisCommand("XLEN", keys.ingest)).int == 1, "the repeat must not queue a twin")
            #expect(try await store.timeline(tenant: "acme", id: id).count == 1)
            // A tenant sharing acme's slot cannot take over acme's task by naming its id.
            let neighbour = try #require((0..<10_000).lazy.map { "t\($0)" }.first {
                Slotting.slot(forTenant: $0, slotCount: slotCount) == keys.slot
            })
            #expect(try await store.submit(tenant: neighbour, submission: body, idempotencyKey: nil, taskID: id, nowMs: 2_000) == .conflict(id))
            #expect(try await store.task(tenant: "acme", id: id)?.tenant == "acme")
            // The same id with another body is not the same submission: refused, the first kept.
            let other = TaskSubmission(command: ["date", "-u"])
            #expect(try await store.submit(tenant: "acme", submission: other, idempotencyKey: nil, taskID: id, nowMs: 2_500) == .conflict(id))
            #expect(try await store.task(tenant: "acme", id: id)?.command == ["date"])
        }
    }

    @Test func idempotencyKeyExpiresAfterItsTTL() async throws {
        try await withRedis { redis in
            var store = TaskStore(redis: redis, slotCount: slotCount)
            store.idempotencyTTLMs = 100
            let body = TaskSubmission(command: ["date"])
            guard case .created(let first) = try await store.submit(tenant: "acme", submission: body, idempotencyKey: "k", nowMs: 1_000) else { return }
            let later = try await store.submit(tenant: "acme", submission: body, idempotencyKey: "k", nowMs: 1_200)
            guard case .created(let second) = later else { Issue.record("expired key replayed: \(later)"); return }
            #expect(first != second)
            let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: slotCount))
            // The expired key was swept: one key (the new one) is left — or none, when more than
            // the 100 ms TTL of real time passed on a busy machine and the whole set expired.
            #expect((try await redis.send(RedisCommand("ZCARD", keys.idempotency)).int ?? 0) <= 1)
        }
    }

    @Test func tenantIndexForgetsEntriesOlderThanRecordRetention() async throws {
        try await withRedis { redis in
            var store = TaskStore(redis: redis, slotCount: slotCount)
            store.recordTTLMs = 500
            guard case .created(let old) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["a"]), idempotencyKey: nil, nowMs: 1_000),
                  // Ids ending in 0 or p sweep the index (one submission in 16 does).
                  case .created(let new) = try await store.submit(
                    tenant: "acme", submission: TaskSubmission(command: ["b"]), idempotencyKey: nil, taskID: "abcdefghjkmnpq0", nowMs: 2_000)
            else { Issue.record("not created"); return }
            let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: slotCount))
            let index = try await redis.send(RedisCommand("ZRANGE", keys.tenantTasks("acme"), "0", "-1")).array?.compactMap(\.string)
            #expect(index == [new])
            #expect(index?.contains(old) == false)
        }
    }

    @Test func inspectorReportsLeasesQueuesAndTheOldestReadyTask() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            var ids: [String] = []
            for _ in 0..<2 {
                guard case .created(let id) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1) else { return }
                ids.append(id)
            }
            let slot = Slotting.slot(forTenant: "acme", slotCount: slotCount)
            let keys = SlotKeys(slot: slot)
            let leases = SlotLeases(shardID: "s1", ttlMs: 60_000, redis: redis)
            try await leases.acquire([slot])
            _ = try await redis.send(RedisCommand("XGROUP", "CREATE", keys.ingest, IngestStream.group, "0"))
            _ = try await redis.send(RedisCommand("XREADGROUP", "GROUP", IngestStream.group, "s1", "STREAMS", keys.ingest, ">"))
            let before = try await SlotInspector(redis: redis, slotCount: slotCount).inspect()
            #expect(before[slot].ingestPending == 2)
            // P7 enqueued at 500 is older than P3 enqueued at 1000, though P3 sorts first.
            let writer = TransitionWriter(redis: redis, leases: leases)
            _ = try await writer.apply([
                TransitionRequest(slot: slot, taskID: ids[0], expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: ReadyScore.score(priority: 3, enqueuedAtMs: 1_000))),
                TransitionRequest(slot: slot, taskID: ids[1], expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: ReadyScore.score(priority: 7, enqueuedAtMs: 500))),
            ], nowMs: 2)
            let slots = try await SlotInspector(redis: redis, slotCount: slotCount).inspect()
            #expect(slots.count == slotCount)
            let acme = slots[slot]
            #expect(acme.lease == "s1:1" && acme.epoch == 1)
            #expect(acme.ingestLength == 2 && acme.ready == 2 && acme.delayed == 0 && acme.inflight == 0)
            #expect(acme.oldestReadyMs == 500)
            #expect(slots.filter { !$0.isEmpty }.map(\.slot) == [slot])
        }
    }

    @Test func trimmerRemovesOnlyAcknowledgedIngestEntries() async throws {
        try await withRedis { redis in
            let key = SlotKeys(slot: 3).ingest
            _ = try await redis.send(RedisCommand("XGROUP", "CREATE", key, IngestStream.group, "0", "MKSTREAM"))
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await redis.send(RedisCommand("XADD", key, "*", "task", "t\(index)")).string ?? "") }
            // Deliver three, acknowledge the first and the third: the second is still pending.
            _ = try await redis.send(RedisCommand("XREADGROUP", "GROUP", IngestStream.group, "c", "COUNT", 3, "STREAMS", key, ">"))
            _ = try await redis.send(RedisCommand("XACK", key, IngestStream.group, ids[0], ids[2]))
            let trimmer = IngestTrimmer(redis: redis)
            #expect(try await trimmer.trim(slots: [3, 4]) == 1)
            let left = try await redis.send(RedisCommand("XRANGE", key, "-", "+")).array?.compactMap { $0.array?.first?.string }
            #expect(left == Array(ids[1...]), "pending and undelivered entries must stay")
            _ = try await redis.send(RedisCommand("XACK", key, IngestStream.group, ids[1]))
            try await trimmer.trim(slots: [3])
            let rest = try await redis.send(RedisCommand("XRANGE", key, "-", "+")).array?.compactMap { $0.array?.first?.string }
            #expect(rest == Array(ids[2...]), "up to the last delivered entry; undelivered ones stay")
        }
    }

    @Test func leaseFencesTheFormerOwner() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            guard case .created(let id) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1) else { return }
            let slot = Slotting.slot(forTenant: "acme", slotCount: slotCount)
            let old = SlotLeases(shardID: "shard-a", ttlMs: 60_000, redis: redis)
            let new = SlotLeases(shardID: "shard-b", ttlMs: 60_000, redis: redis)
            #expect(try await old.acquire([slot])[slot] == 1)
            #expect(try await new.acquire([slot]).isEmpty, "a held lease must not be taken")
            // The old owner pauses past its TTL: simulate by expiring the lease in Redis.
            _ = try await redis.send(RedisCommand("DEL", SlotKeys(slot: slot).lease))
            #expect(try await new.acquire([slot])[slot] == 2)
            let admit = TransitionRequest(slot: slot, taskID: id, expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: 5))
            let stale = try await TransitionWriter(redis: redis, leases: old).apply([admit], nowMs: 10)
            #expect(stale == [.fenced])
            #expect(try await store.task(tenant: "acme", id: id)?.state == "QUEUED")
            #expect(try await old.renew() == [slot], "renewal must report the lost slot")
            let fresh = try await TransitionWriter(redis: redis, leases: new).apply([admit], nowMs: 11)
            guard case .applied(let previous, _, _, _) = fresh.first else { Issue.record("not applied: \(fresh)"); return }
            #expect(previous == "QUEUED")
            let entries = try await store.timeline(tenant: "acme", id: id)
            #expect(entries.last?.shard == "shard-b")
            #expect(entries.last?.epoch == 2)
        }
    }

    @Test func transitionMovesBetweenSetsAcksIngestAndRefusesWrongState() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            guard case .created(let id) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1) else { return }
            let (slot, keys, leases, entries) = try await holdSlotAndReadIngest(redis, tenant: "acme")
            let entry = try #require(entries.first)
            let writer = TransitionWriter(redis: redis, leases: leases)
            let admit = TransitionRequest(slot: slot, taskID: id, expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: 42), ingestEntry: entry)
            guard case .applied = try await writer.apply([admit], nowMs: 5).first else { Issue.record("admit failed"); return }
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.ready, id)).string == "42")
            #expect(try await redis.send(RedisCommand("XPENDING", keys.ingest, IngestStream.group)).array?.first?.int == 0)
            #expect(try await writer.apply([admit], nowMs: 6) == [.conflict(actual: "ADMITTED")])
            let dispatch = TransitionRequest(slot: slot, taskID: id, expected: ["ADMITTED"], to: "DISPATCHED", reason: "dispatched", node: "n1", attempt: 1, queue: .inflight(deadlineMs: 99), fields: [("attempt", "1")])
            guard case .applied(_, let command, _, _) = try await writer.apply([dispatch], nowMs: 7).first else { Issue.record("dispatch failed"); return }
            #expect(command == #"["true"]"#)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.ready, id)).isNull)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.inflight, id)).string == "99")
            let running = TransitionRequest(slot: slot, taskID: id, expected: ["DISPATCHED"], to: "RUNNING", reason: "started", node: "n1", attempt: 1, queue: .keep)
            _ = try await writer.apply([running], nowMs: 8)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.inflight, id)).string == "99")
            let done = TransitionRequest(slot: slot, taskID: id, expected: ["RUNNING"], to: "SUCCEEDED", reason: "exit_0", node: "n1", attempt: 1, terminal: true, fields: [("exit_code", "0")])
            _ = try await writer.apply([done], nowMs: 9)
            #expect(try await redis.send(RedisCommand("ZCARD", keys.inflight)).int == 0)
            #expect(try await redis.send(RedisCommand("PTTL", keys.task(id))).int ?? -1 > 0)
            let states = try await store.timeline(tenant: "acme", id: id).map(\.to)
            #expect(states == ["QUEUED", "ADMITTED", "DISPATCHED", "RUNNING", "SUCCEEDED"])
        }
    }
}

extension ScriptTests {
    /// Issue 16: two changes of one task decided in the same turn are one script entry (one
    /// check, one HSET, one set move) with a timeline entry for each, in order; the counters
    /// and sets end as if they had been written one by one.
    @Test func aFinishedTaskIsCompactedIntoItsRecordAndChargedForIt() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount, retention: .seconds(3_600))
            guard case .created(let id) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1)
            else { Issue.record("not created"); return }
            let (slot, keys, leases, entries) = try await holdSlotAndReadIngest(redis, tenant: "acme")
            var writer = TransitionWriter(redis: redis, leases: leases)
            writer.recordTTLMs = 3_600_000
            _ = try await writer.apply([
                TransitionRequest(slot: slot, taskID: id, expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: 5), ingestEntry: entries[0]),
            ], nowMs: 5)
            // Unfinished: the stream holds the timeline, the record no packed copy.
            #expect(try await redis.send(RedisCommand("HEXISTS", keys.task(id), "timeline")).int == 0)
            let before = try await redis.send(RedisCommand("HGET", keys.stored, "acme")).string.flatMap(Int.init) ?? 0
            _ = try await writer.apply([
                TransitionRequest(slot: slot, taskID: id, expected: ["ADMITTED"], to: "FAILED", reason: "non_zero_exit", node: "n1", attempt: 1,
                                  queue: .none, terminal: true, fields: [("exit_code", "3")]),
            ], nowMs: 9)
            let streamed = try await store.timeline(tenant: "acme", id: id)
            // Finished: every entry packed into the record, the stream kept only a minute more,
            // the record for the retention.
            let packed = try #require(try await redis.send(RedisCommand("HGET", keys.task(id), "timeline")).string)
            #expect(PackedTimeline.unpack(packed) == streamed && streamed.map(\.to) == ["QUEUED", "ADMITTED", "FAILED"])
            let streamTTL = try await redis.send(RedisCommand("PTTL", keys.timeline(id))).int ?? 0
            #expect((1...60_000).contains(streamTTL), "stream TTL \(streamTTL)")
            let recordTTL = try await redis.send(RedisCommand("PTTL", keys.task(id))).int ?? 0
            #expect((3_000_000...3_600_000).contains(recordTTL), "record TTL \(recordTTL)")
            // The packed timeline is charged with the record (and its final field's value), to
            // the day the record expires.
            let day = (9 + 3_600_000) / 86_400_000
            let charged = try await redis.send(RedisCommand("HGET", keys.stored, "acme@\(day)")).string.flatMap(Int.init) ?? 0
            #expect(charged == before + "3".utf8.count + packed.utf8.count, "charged \(charged), before \(before)")
            // Once the stream has gone, reads come from the record alone.
            _ = try await redis.send(RedisCommand("DEL", keys.timeline(id)))
            #expect(try await store.timeline(tenant: "acme", id: id) == streamed)
            #expect(try await store.lastTimelineEntry(tenant: "acme", id: id) == streamed.last)
            #expect(try await store.timeline(tenant: "other", id: id).isEmpty, "another tenant reads nothing")
        }
    }

    @Test func packedTimelinesReadBackAndMalformedLinesAreSkipped() {
        let text = "1-0|1||QUEUED|submitted||0||0\n2-0|2|QUEUED|ADMITTED|admitted|shard-a|3||0\nbroken\n3-1|3|ADMITTED|FAILED|x|shard-a|3|n1|1"
        let entries = PackedTimeline.unpack(text)
        #expect(entries.map(\.to) == ["QUEUED", "ADMITTED", "FAILED"])
        #expect(entries[2] == TimelineEntry(id: "3-1", atMs: 3, from: "ADMITTED", to: "FAILED", reason: "x", shard: "shard-a", epoch: 3, node: "n1", attempt: 1))
        #expect(entries[0].node == nil && entries[0].from == "")
        #expect(PackedTimeline.isAfter("10-0", "9-5") && PackedTimeline.isAfter("9-6", "9-5") && !PackedTimeline.isAfter("9-5", "9-5"))
    }

    @Test func changesOfOneTaskInOneTurnAreOneEntryWithEveryStepInTheTimeline() async throws {
        try await withRedis { redis in
            let store = TaskStore(redis: redis, slotCount: slotCount)
            guard case .created(let id) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1),
                  case .created(let other) = try await store.submit(tenant: "acme", submission: TaskSubmission(command: ["true"]), idempotencyKey: nil, nowMs: 1)
            else { Issue.record("not created"); return }
            let (slot, keys, leases, entries) = try await holdSlotAndReadIngest(redis, tenant: "acme")
            #expect(entries.count == 2)
            #expect(try await redis.send(RedisCommand("HGET", keys.live, "acme")).string == "2")
            let writer = TransitionWriter(redis: redis, leases: leases)
            // Admitted then dispatched (the dispatch reads the command back), another task's
            // admission in between: three requests, two entries.
            let turn = [
                TransitionRequest(slot: slot, taskID: id, expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: 5), ingestEntry: entries[0]),
                TransitionRequest(slot: slot, taskID: other, expected: ["QUEUED"], to: "ADMITTED", reason: "admitted", queue: .ready(score: 6), ingestEntry: entries[1]),
                TransitionRequest(slot: slot, taskID: id, expected: ["ADMITTED"], to: "DISPATCHED", reason: "dispatched", node: "n1", attempt: 1,
                                  queue: .inflight(deadlineMs: 99), fields: [("attempt", "1")]),
            ]
            #expect(TransitionWriter.coalesce(turn).1 == [[0, 2], [1]])
            let first = try await writer.apply(turn, nowMs: 5)
            guard case .applied(_, let command, _, _) = first[2], case .applied = first[0], case .applied = first[1] else {
                Issue.record("not applied: \(first)"); return
            }
            #expect(command == #"["true"]"#, "the coalesced dispatch reads the command back")
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.ready, id)).isNull)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.inflight, id)).string == "99")
            #expect(try await redis.send(RedisCommand("XPENDING", keys.ingest, IngestStream.group)).array?.first?.int == 0)
            #expect(try await redis.send(RedisCommand("HGET", keys.live, "acme:ingest")).string == "0")
            // Started and finished together: RUNNING and SUCCEEDED in one entry.
            let done = try await writer.apply([
                TransitionRequest(slot: slot, taskID: id, expected: ["DISPATCHED"], to: "RUNNING", reason: "started", node: "n1", attempt: 1, queue: .keep),
                TransitionRequest(slot: slot, taskID: id, expected: ["RUNNING", "DISPATCHED"], to: "SUCCEEDED", reason: "succeeded", node: "n1", attempt: 1,
                                  terminal: true, fields: [("exit_code", "0")]),
            ], nowMs: 9)
            #expect(done.count == 2 && done.allSatisfy { if case .applied = $0 { true } else { false } }, "\(done)")
            let timeline = try await store.timeline(tenant: "acme", id: id)
            #expect(timeline.map { "\($0.from)>\($0.to)" } == [">QUEUED", "QUEUED>ADMITTED", "ADMITTED>DISPATCHED", "DISPATCHED>RUNNING", "RUNNING>SUCCEEDED"])
            #expect(timeline.dropFirst(2).allSatisfy { $0.node == "n1" && $0.attempt == 1 })
            let task = try #require(try await store.task(tenant: "acme", id: id))
            #expect(task.state == "SUCCEEDED" && task.attempt == 1)
            #expect(try await redis.send(RedisCommand("ZSCORE", keys.inflight, id)).isNull)
            #expect(try await redis.send(RedisCommand("HGET", keys.live, "acme")).string == "1", "the finished task left the live count")
            // A terminal state ends the chain: a later change of that task is its own entry.
            #expect(TransitionWriter.coalesce([
                TransitionRequest(slot: slot, taskID: id, expected: [], to: "CANCELLED", reason: "x", terminal: true),
                TransitionRequest(slot: slot, taskID: id, expected: [], to: "FAILED", reason: "y", terminal: true),
            ]).1 == [[0], [1]])
        }
    }
}
