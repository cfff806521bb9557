import AsyncHTTPClient
import FluxAPI
import FluxClient
import FluxRedis
import FluxRuntime
import FluxTesting
import Foundation
import Testing

/// Server-sent events through the router (docs/api/events.md): a task's timeline live until it
/// ends, resumable with `Last-Event-ID`; a tenant's stream of every change of its own tasks.
@Suite(.serialized) struct EventStreamTests {
    @Test func aTaskIsWatchedLiveUntilItEndsAndResumesAfterItsLastEventID() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let (otherToken, _) = try await cluster.createTenant("other")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: gate.command(then: "echo done")))
        let http = try APIClient.makeHTTPClient(caFile: nil)
        defer { Task { try? await http.shutdown() } }
        let client = APIClient(baseURL: cluster.baseURL, token: token, http: http)
        let path = "/v1/tenants/acme/tasks/\(id)/events"

        // Live: the stream shows RUNNING while the task is held there, and has not ended.
        let live = EventReader(try await client.events(path))
        var seen: [ServerSentEvent] = []
        while seen.last.flatMap(Self.state) != "RUNNING" {
            let event = try #require(try await Self.next(live), "stream ended before RUNNING: \(seen)")
            #expect(event.event == "transition", "\(event)")
            seen.append(event)
        }
        let runningID = try #require(seen.last?.lastEventID)
        gate.open()
        while seen.last?.event != "end" {
            seen.append(try #require(try await Self.next(live), "stream ended without `end`: \(seen)"))
        }
        #expect(try await Self.next(live) == nil, "nothing after `end`")
        let transitions = seen.filter { $0.event == "transition" }
        #expect(transitions.first.flatMap(Self.state) == "QUEUED")
        #expect(transitions.last.flatMap(Self.state) == "SUCCEEDED")
        #expect(seen.last?.data == #"{"state":"SUCCEEDED"}"#)
        // Exactly the timeline, entry for entry, with its ids.
        let timeline = try await cluster.timeline(tenant: "acme", token: token, id: id)
        #expect(transitions.compactMap(\.lastEventID) == timeline.map(\.id))
        #expect(transitions.compactMap(Self.state) == timeline.map(\.to))

        // Resumed after RUNNING: only what came later, then the end, at once.
        let resumed = try await Self.collect(client.events(path, lastEventID: runningID))
        #expect(resumed.filter { $0.event == "transition" }.compactMap(\.lastEventID) == Array(timeline.map(\.id).drop { $0 != runningID }.dropFirst()))
        #expect(resumed.last?.event == "end")
        // A finished task from the start: the whole timeline, then the end.
        let whole = try await Self.collect(client.events(path))
        #expect(whole.filter { $0.event == "transition" }.count == timeline.count)
        // Once its stream has expired (a minute after the end), the record's packed timeline
        // answers the same, resumable alike.
        let keys = SlotKeys(slot: Slotting.slot(forTenant: "acme", slotCount: 256))
        let connection = try await RedisConnection.connect(configuration: cluster.redis)
        defer { Task { await connection.close() } }
        #expect(try await connection.send(RedisCommand("DEL", keys.timeline(id))).int == 1)
        let packed = try await Self.collect(client.events(path))
        #expect(packed.filter { $0.event == "transition" }.compactMap(\.lastEventID) == timeline.map(\.id))
        #expect(packed.last?.data == #"{"state":"SUCCEEDED"}"#)
        let packedResumed = try await Self.collect(client.events(path, lastEventID: runningID))
        #expect(packedResumed.filter { $0.event == "transition" }.compactMap(\.lastEventID) == resumed.filter { $0.event == "transition" }.compactMap(\.lastEventID))
        #expect(try await cluster.timeline(tenant: "acme", token: token, id: id) == timeline)

        // Another tenant's token, another tenant's path, a malformed resume point.
        let intruder = APIClient(baseURL: cluster.baseURL, token: otherToken, http: http)
        await #expect { _ = try await intruder.events(path) } throws: { ($0 as? APIError)?.status == 403 }
        await #expect { _ = try await intruder.events("/v1/tenants/other/tasks/\(id)/events") } throws: {
            ($0 as? APIError)?.status == 404
        }
        await #expect { _ = try await client.events(path, lastEventID: "yesterday") } throws: {
            ($0 as? APIError)?.code == "invalid_field" && ($0 as? APIError)?.field == "Last-Event-ID"
        }
    }

    @Test func aTenantsStreamCarriesEveryChangeOfItsOwnTasksOnlyAndEndsAtShutdown() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        // Two tenants of one slot: their changes share the slot's event stream.
        let (mine, theirs) = TenantIsolationTests.sameSlotPair()
        let (token, agentToken) = try await cluster.createTenant(mine)
        let (theirToken, theirAgentToken) = try await cluster.createTenant(theirs)
        try await cluster.startAgent(tenant: mine, token: token, agentToken: agentToken, node: "edge-1")
        try await cluster.startAgent(tenant: theirs, token: theirToken, agentToken: theirAgentToken, node: "edge-1")
        let http = try APIClient.makeHTTPClient(caFile: nil)
        defer { Task { try? await http.shutdown() } }
        let client = APIClient(baseURL: cluster.baseURL, token: token, http: http)
        let everything = EventReader(try await client.events("/v1/tenants/\(mine)/events"))
        let finished = EventReader(try await client.events("/v1/tenants/\(mine)/events?to=SUCCEEDED,FAILED"))

        let their = try await cluster.submit(tenant: theirs, token: theirToken, TaskSubmission(command: ["true"]))
        let ok = try await cluster.submit(tenant: mine, token: token, TaskSubmission(command: ["true"]))
        let bad = try await cluster.submit(tenant: mine, token: token, TaskSubmission(command: ["false"], retry: RetrySpec(maxAttempts: 1)))
        for id in [their, ok, bad] {
            _ = try await cluster.waitForState(tenant: id == their ? theirs : mine, token: id == their ? theirToken : token, id: id, ["SUCCEEDED", "FAILED"])
        }

        // The filtered stream: exactly the two endings, in order of the tasks' ends.
        var endings: [TaskEvent] = []
        while endings.count < 2 { endings.append(try Self.taskEvent(try #require(try await Self.next(finished)))) }
        #expect(Set(endings.map(\.taskId)) == [ok, bad])
        #expect(Set(endings.map(\.to)) == ["SUCCEEDED", "FAILED"])
        // The whole stream: from QUEUED to the end of each of my tasks, none of theirs.
        var changes: [TaskEvent] = []
        while !(changes.contains { $0.taskId == ok && $0.to == "SUCCEEDED" } && changes.contains { $0.taskId == bad && $0.to == "FAILED" }) {
            changes.append(try Self.taskEvent(try #require(try await Self.next(everything), "stream ended: \(changes)")))
        }
        #expect(!changes.contains { $0.taskId == their }, "another tenant's task in my stream")
        for id in [ok, bad] {
            let states = changes.filter { $0.taskId == id }.flatMap { $0.via + [$0.to] }
            #expect(states.first == "QUEUED", "\(id): \(states)")
            #expect(states.contains("RUNNING"), "\(id): \(states)")
            // The same changes as the task's own timeline, step for step.
            let timeline = try await cluster.timeline(tenant: mine, token: token, id: id)
            let steps = timeline.map { $0.to }
            #expect(states == steps, "\(id): \(states) vs \(steps)")
        }
        await #expect { _ = try await client.events("/v1/tenants/\(mine)/events?to=DONE") } throws: {
            ($0 as? APIError)?.code == "invalid_field" && ($0 as? APIError)?.field == "to"
        }

        // SIGTERM: the router ends its open streams instead of waiting for them forever.
        let started = ContinuousClock.now
        await cluster.router.terminate(timeout: .seconds(15))
        var rest: [ServerSentEvent] = []
        while let event = try? await Self.next(everything) { rest.append(event) }
        #expect(rest.last?.event == "closing", "\(rest)")
        #expect(ContinuousClock.now - started < .seconds(12), "the router took \(ContinuousClock.now - started) to stop")
    }

    // MARK: - Helpers

    static func state(_ event: ServerSentEvent) -> String? {
        (try? JSONDecoder().decode(TimelineEntry.self, from: Data(event.data.utf8)))?.to
    }

    static func taskEvent(_ event: ServerSentEvent) throws -> TaskEvent {
        #expect(event.event == "transition", "\(event)")
        return try JSONDecoder().decode(TaskEvent.self, from: Data(event.data.utf8))
    }

    /// The next event, or nil when the stream ended; throws after 30 s of silence.
    static func next(_ reader: EventReader) async throws -> ServerSentEvent? {
        try await reader.next(within: .seconds(30))
    }

    /// Every event of a stream that ends by itself (a finished task's), within 30 s.
    static func collect(_ stream: AsyncThrowingStream<ServerSentEvent, any Error>) async throws -> [ServerSentEvent] {
        try await withThrowingTaskGroup(of: [ServerSentEvent]?.self) { group in
            group.addTask { try await stream.reduce(into: []) { $0.append($1) } }
            group.addTask { try await Task.sleep(for: .seconds(30)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return try #require(first, "the stream did not end within 30 s")
        }
    }
}

/// Reads one event stream with a bound on each wait (a test must never hang on a quiet stream).
final class EventReader: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<ServerSentEvent, any Error>.AsyncIterator

    init(_ stream: AsyncThrowingStream<ServerSentEvent, any Error>) {
        iterator = stream.makeAsyncIterator()
    }

    struct Silent: Error, CustomStringConvertible {
        var description: String { "no event within the time allowed" }
    }

    /// The next event, nil when the stream ended; `Silent` after `timeout` without one.
    func next(within timeout: Duration) async throws -> ServerSentEvent? {
        try await withThrowingTaskGroup(of: ServerSentEvent?.self) { group in
            group.addTask { try await self.iterator.next() }
            group.addTask { try await Task.sleep(for: timeout); throw Silent() }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
