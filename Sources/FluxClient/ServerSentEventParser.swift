/// One server-sent event as the HTML standard's event-stream format defines it: what
/// `GET …/events` sends (docs/api/events.md).
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field; "message" when the server named none.
    public var event: String
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen so far on this stream (what a reconnect sends as `Last-Event-ID`).
    public var lastEventID: String?

    public init(event: String, data: String, lastEventID: String?) {
        self.event = event
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// Turns the bytes of a `text/event-stream` body into events, in whatever chunks they arrive.
/// Pure and incremental: feed it chunks, take the events each one completes. Comment lines
/// (`: keep-alive`) and fields it does not know are skipped, as the standard says.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var event = ""
    private var data: [String] = []
    private var hasData = false
    public private(set) var lastEventID: String?

    public init() {}

    /// The events completed by `chunk` (an event ends at a blank line).
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [ServerSentEvent] {
        pending.append(contentsOf: chunk)
        var events: [ServerSentEvent] = []
        var start = 0
        while let newline = pending[start...].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
            var line = pending[start..<newline]
            var next = newline + 1
            // CRLF is one line end; a lone CR at the end of the chunk may be half of one.
            if pending[newline] == 0x0D {
                if next == pending.count { break }
                if pending[next] == 0x0A { next += 1 }
            }
            start = next
            if line.first == 0xEF, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            if let completed = take(line: String(decoding: line, as: UTF8.self)) { events.append(completed) }
        }
        pending.removeFirst(start)
        return events
    }

    private mutating func take(line: String) -> ServerSentEvent? {
        if line.isEmpty {
            defer { event = ""; data = []; hasData = false }
            guard hasData else { return nil }
            return ServerSentEvent(event: event.isEmpty ? "message" : event, data: data.joined(separator: "\n"), lastEventID: lastEventID)
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(line)
            value = ""
        }
        switch field {
        case "event": event = String(value)
        case "data": data.append(String(value)); hasData = true
        case "id" where !value.contains("\0"): lastEventID = String(value)
        default: break
        }
        return nil
    }
}
