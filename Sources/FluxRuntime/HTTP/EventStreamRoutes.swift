public import FluxAPI
import FluxCore
public import FluxRedis
public import Hummingbird
import Foundation
import HTTPTypes
import Synchronization

/// Server-sent events of task state changes (docs/api/events.md), read straight from Redis, so
/// routers and shards serve them alike and a watcher costs no shard any work:
///
/// - `GET /v1/tenants/{t}/tasks/{id}/events`: the task's timeline from the start (or after
///   `Last-Event-ID`), then each new entry as it is written, then `event: end` once the task is
///   terminal. What `fluxforge tasks submit --wait` and the dashboard follow.
/// - `GET /v1/tenants/{t}/events[?to=S1,S2][&task=ID]`: every state change of the tenant's tasks
///   from now (or after `Last-Event-ID`), from the slot's event stream.
///
/// Each open stream holds one dedicated Redis connection for its blocking reads (a blocked read
/// would stall a shared one), so a process serves at most `gate.limit` streams; more answer
/// `503 too_many_streams`. A quiet stream gets a comment line every `keepAlive`, which also finds
/// clients that went away.
public struct EventStreamRoutes: Sendable {
    public let redis: any RedisBackend
    public let auth: Authenticator
    public let slotCount: Int
    public let gate: EventStreamGate
    /// How long one blocking read waits; also how soon a stream notices that its server is
    /// shutting down (`EventStreamGate.close`).
    let blockFor: Duration = .seconds(2)
    /// A comment line is written when nothing else was for this long.
    let keepAlive: Duration = .seconds(15)

    public init(redis: any RedisBackend, auth: Authenticator, slotCount: Int, gate: EventStreamGate) {
        self.redis = redis
        self.auth = auth
        self.slotCount = slotCount
        self.gate = gate
    }

    /// The answer for a GET of `v1/tenants/{tenant}/` + `segments` if that is an event stream,
    /// else nil: for a router whose catch-all tenant route must see every other path (its route
    /// tree does not fall back from a longer match to a wildcard).
    public func serve(_ request: Request, tenant: String, segments: [Substring]) async throws -> Response? {
        guard request.method == .get else { return nil }
        if segments == ["events"] { return try await tenantEvents(request, tenant: tenant) }
        if segments.count == 3, segments[0] == "tasks", segments[2] == "events" {
            return try await taskEvents(request, tenant: tenant, id: String(segments[1]))
        }
        return nil
    }

    /// Registers both streams (a shard, whose tenant routes are all explicit).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("v1/tenants/{tenant}/tasks/{id}/events") { request, context in
            try await taskEvents(request, tenant: context.parameters.require("tenant"), id: context.parameters.require("id"))
        }
        router.get("v1/tenants/{tenant}/events") { request, context in
            try await tenantEvents(request, tenant: context.parameters.require("tenant"))
        }
    }

    // MARK: - One task

    func taskEvents(_ request: Request, tenant: String, id: String) async throws -> Response {
        try await authenticate(request, tenant: tenant)
        guard TaskIDs.isWellFormed(id) else { throw HTTPProblem.notFound("task \(id.prefix(64))") }
        let after = try Self.cursor(request) ?? "0"
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        let owner = try await HTTPProblem.mappingStoreErrors {
            try await redis.send(RedisCommand("HGET", keys.task(id), "tenant")).string
        }
        guard owner == tenant else { throw HTTPProblem.notFound("task \(id)") }
        let permit = try gate.enter()
        return Self.stream(permit) { sink in
            var cursor = after
            var dedicated: RedisConnection?
            defer { if let connection = dedicated { Task { await connection.close() } } }
            var quietSince = ContinuousClock.now
            while !permit.ended {
                let entries: [RedisStreamEntry]
                if let connection = dedicated {
                    entries = try await connection.xread(streams: [(keys.timeline(id), cursor)], count: 100, block: blockFor)
                } else {
                    // The first read does not block: a finished task's stream ends at once.
                    entries = try await redis.xread(streams: [(keys.timeline(id), cursor)], count: 100)
                }
                for entry in entries {
                    let timeline = TaskStore.timelineEntry(id: entry.id, fields: entry.stringFields)
                    try await sink.send(event: "transition", id: entry.id, json: timeline)
                    cursor = entry.id
                    if TaskState(rawValue: timeline.to)?.isTerminal == true {
                        try await sink.send(event: "end", id: nil, json: ["state": timeline.to])
                        return
                    }
                }
                if !entries.isEmpty { quietSince = .now; continue }
                // Nothing new in the stream: the task may have ended (its timeline is then packed
                // into the record, and the stream goes a minute later), or expired.
                let record = try await redis.send(RedisCommand("HMGET", keys.task(id), "state", "timeline")).array ?? []
                guard let state = record.first?.string else {
                    try await sink.send(event: "end", id: nil, json: ["state": "EXPIRED"])
                    return
                }
                if TaskState(rawValue: state)?.isTerminal == true {
                    for entry in PackedTimeline.unpack(record.last?.string ?? "") where PackedTimeline.isAfter(entry.id, cursor) {
                        try await sink.send(event: "transition", id: entry.id, json: entry)
                    }
                    try await sink.send(event: "end", id: nil, json: ["state": state])
                    return
                }
                if dedicated == nil { dedicated = try await redis.makeDedicatedConnection(forKey: keys.timeline(id)) }
                if ContinuousClock.now - quietSince >= keepAlive {
                    try await sink.comment("keep-alive")
                    quietSince = .now
                }
            }
        }
    }

    // MARK: - All of a tenant's tasks

    func tenantEvents(_ request: Request, tenant: String) async throws -> Response {
        try await authenticate(request, tenant: tenant)
        let filter = try EventFilter(request.uri.queryParameters)
        let keys = SlotKeys(slot: Slotting.slot(forTenant: tenant, slotCount: slotCount))
        var start = try Self.cursor(request)
        if start == nil {
            // "From now": the newest entry's id, so nothing written after this call is missed.
            let newest = try await HTTPProblem.mappingStoreErrors {
                try await redis.send(RedisCommand("XREVRANGE", keys.events, "+", "-", "COUNT", "1"))
            }
            start = newest.array?.first?.array?.first?.string ?? "0"
        }
        let after = start ?? "0"
        let permit = try gate.enter()
        return Self.stream(permit) { sink in
            let connection = try await redis.makeDedicatedConnection(forKey: keys.events)
            defer { Task { await connection.close() } }
            var cursor = after
            var quietSince = ContinuousClock.now
            while !permit.ended {
                let entries = try await connection.xread(streams: [(keys.events, cursor)], count: 200, block: blockFor)
                for entry in entries {
                    cursor = entry.id
                    guard entry.string("tenant") == tenant else { continue }
                    let event = TaskEvent(streamEntry: entry)
                    guard filter.admits(event) else { continue }
                    try await sink.send(event: "transition", id: entry.id, json: event)
                    quietSince = .now
                }
                if ContinuousClock.now - quietSince >= keepAlive {
                    try await sink.comment("keep-alive")
                    quietSince = .now
                }
            }
        }
    }

    // MARK: - Parts

    private func authenticate(_ request: Request, tenant: String) async throws {
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw HTTPProblem(badRequest: error) }
        _ = try await HTTPProblem.mappingStoreErrors { try await auth.tenant(tenant, request: request) }
    }

    /// Where to resume: `Last-Event-ID` (what browsers send on reconnect) or `?after=`, a
    /// stream entry id (`<ms>-<seq>`); nil when neither is given.
    static func cursor(_ request: Request) throws -> String? {
        let given = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters["after"].map(String.init)
        guard let given, !given.isEmpty else { return nil }
        guard isStreamID(given) else {
            throw HTTPProblem(badRequest: .invalid("Last-Event-ID", "must be an event id as sent in `id:` (<ms>-<seq>)"))
        }
        return given
    }

    static func isStreamID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (1...20).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// A `text/event-stream` response whose body `body` writes; an error after the head went
    /// out is told as a last `event: error` (the status is already 200). The permit goes with the
    /// body: it is given back when the response is gone, whether or not the body ever ran.
    static func stream(_ permit: EventStreamGate.Permit, _ body: @escaping @Sendable (inout EventSink) async throws -> Void) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        // Proxies such as nginx otherwise buffer the stream.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var sink = EventSink(writer: writer)
            defer { withExtendedLifetime(permit) {} }
            do {
                try await sink.comment("stream open")
                try await body(&sink)
            } catch let error as RedisError {
                try await sink.send(event: "error", id: nil, json: APIProblemBody(error: HTTPProblem.store(error).problem))
            }
            if permit.ended { try await sink.send(event: "closing", id: nil, json: ["reason": "server shutting down; reconnect with Last-Event-ID"]) }
            try await sink.writer.finish(nil)
        })
    }
}

/// Writes server-sent events (one JSON object per `data:` line) to a response body.
struct EventSink {
    var writer: any ResponseBodyWriter
    private static let encoder = JSONEncoder()

    mutating func send(event: String, id: String?, json: some Encodable) async throws {
        var text = id.map { "id: \($0)\n" } ?? ""
        text += "event: \(event)\ndata: "
        text += String(decoding: try Self.encoder.encode(json), as: UTF8.self)
        text += "\n\n"
        try await writer.write(ByteBuffer(string: text))
    }

    mutating func comment(_ text: String) async throws {
        try await writer.write(ByteBuffer(string: ": \(text)\n\n"))
    }
}

/// Caps how many event streams one process serves at once (each holds a Redis connection), and
/// ends them all when the process shuts down (open streams would otherwise hold the HTTP
/// server's graceful shutdown forever).
public final class EventStreamGate: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Streams open right now.
    public var count: Int { open.load(ordering: .relaxed) }

    /// Ends every stream within one blocking read and refuses new ones (at shutdown).
    public func close() { closed.store(true, ordering: .relaxed) }

    /// A place for one more stream, or `503 too_many_streams`.
    func enter() throws -> Permit {
        guard !closed.load(ordering: .relaxed) else {
            throw HTTPProblem.unavailable("shutting_down", "this server is shutting down; reconnect")
        }
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.subtract(1, ordering: .relaxed)
            var problem = HTTPProblem.unavailable("too_many_streams", "this server already serves \(limit) event streams; retry later or poll the timeline")
            problem.headers[.retryAfter] = "5"
            throw problem
        }
        return Permit(gate: self)
    }

    /// One open stream's place; given back when the stream's response is released.
    final class Permit: Sendable {
        let gate: EventStreamGate
        init(gate: EventStreamGate) { self.gate = gate }
        var ended: Bool { gate.closed.load(ordering: .relaxed) }
        deinit { gate.open.subtract(1, ordering: .relaxed) }
    }
}

/// `?to=` and `?task=` of the tenant event stream.
struct EventFilter {
    var states: Set<String>?
    var task: String?

    init(_ query: Parameters) throws {
        if let to = query["to"] {
            let names = to.split(separator: ",").map(String.init)
            guard !names.isEmpty, names.allSatisfy({ TaskState(rawValue: $0) != nil }) else {
                throw HTTPProblem(badRequest: .invalid("to", "must be a comma-separated list of task states (e.g. SUCCEEDED,FAILED)"))
            }
            states = Set(names)
        }
        if let task = query["task"] {
            guard TaskIDs.isWellFormed(task) else { throw HTTPProblem(badRequest: .invalid("task", "must be a task id")) }
            self.task = String(task)
        }
    }

    func admits(_ event: TaskEvent) -> Bool {
        if let task, event.taskId != task { return false }
        if let states, !states.contains(event.to), !event.via.contains(where: states.contains) { return false }
        return true
    }
}

extension TaskEvent {
    /// An entry of a slot's event stream (`SlotKeys.events`).
    init(streamEntry entry: RedisStreamEntry) {
        let node = entry.string("node") ?? ""
        let via = entry.string("via") ?? ""
        self.init(
            id: entry.id, taskId: entry.string("task") ?? "", atMs: Int64(entry.string("at") ?? "") ?? 0,
            from: entry.string("from") ?? "", to: entry.string("to") ?? "",
            via: via.isEmpty ? [] : via.split(separator: ",").map(String.init), reason: entry.string("reason") ?? "",
            node: node.isEmpty ? nil : node, attempt: Int(entry.string("attempt") ?? "") ?? 0)
    }
}

extension RedisStreamEntry {
    /// The entry's fields decoded as UTF-8 (FluxForge's streams hold only text).
    var stringFields: [String: String] {
        Dictionary(fields.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }, uniquingKeysWith: { first, _ in first })
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
