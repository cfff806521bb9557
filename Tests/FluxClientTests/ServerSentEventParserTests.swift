import FluxClient
import Testing

@Suite struct ServerSentEventParserTests {
    @Test func eventsSplitAcrossChunksAreAssembledWithTheirLastID() {
        let stream = ": stream open\n\nid: 1-0\nevent: transition\ndata: {\"to\":\"QUEUED\"}\n\n: keep-alive\n\nevent: end\ndata: {\"state\":\"SUCCEEDED\"}\n\n"
        let bytes = Array(stream.utf8)
        // Every way of cutting the stream in two gives the same events.
        for cut in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == [
                ServerSentEvent(event: "transition", data: "{\"to\":\"QUEUED\"}", lastEventID: "1-0"),
                ServerSentEvent(event: "end", data: "{\"state\":\"SUCCEEDED\"}", lastEventID: "1-0"),
            ], "cut at \(cut)")
        }
    }

    @Test func lineEndingsDataLinesAndUnknownFieldsFollowTheStandard() {
        var parser = ServerSentEventParser()
        let events = parser.feed(Array("data:a\r\ndata: b\r\nretry: 10\rnonsense\n\ndata\n\nid: 7-1\n\n".utf8))
        // Two data lines join with a newline; a bare "data" is an empty line of data; an event
        // with an id but no data dispatches nothing but moves the id.
        #expect(events == [
            ServerSentEvent(event: "message", data: "a\nb", lastEventID: nil),
            ServerSentEvent(event: "message", data: "", lastEventID: nil),
        ])
        #expect(parser.lastEventID == "7-1")
    }
}
