import Foundation
import Testing

@testable import FluxAPI

@Suite("Task submission decoding and validation")
struct TaskSubmissionTests {
    private func decode(_ json: String) throws -> TaskSubmission {
        try JSONDecoder().decode(TaskSubmission.self, from: Data(json.utf8))
    }

    private func problem(_ json: String) throws -> APIProblem? {
        do {
            try decode(json).validate()
            return nil
        } catch let problem as APIProblem {
            return problem
        }
    }

    @Test func minimalSubmissionGetsDocumentedDefaults() throws {
        let task = try decode(#"{"command":["echo","hi"]}"#)
        #expect(task.priority == TaskLimits.defaultPriority)
        #expect(task.timeoutMs == TaskLimits.defaultTimeoutMs)
        #expect(task.cpuCost == 1)
        #expect(task.retry == nil)
        try task.validate()
    }

    @Test func unknownFieldIsRejectedByName() {
        #expect(throws: UnknownFieldError.self) { try decode(#"{"command":["x"],"timout_ms":5}"#) }
        do {
            _ = try decode(#"{"command":["x"],"retry":{"maxAttempts":2,"jitter":true}}"#)
            Issue.record("nested unknown field accepted")
        } catch let error as UnknownFieldError {
            #expect(error.field == "retry.jitter")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        (#"{"command":[]}"#, "command"),
        (#"{"command":["x"],"priority":11}"#, "priority"),
        (#"{"command":["x"],"priority":-1}"#, "priority"),
        (#"{"command":["x"],"cpuCost":-3}"#, "cpuCost"),
        (#"{"command":["x"],"timeoutMs":99999999999}"#, "timeoutMs"),
        (#"{"command":["x"],"timeoutMs":5}"#, "timeoutMs"),
        (#"{"command":["x"],"node":"Bad_Node"}"#, "node"),
        (#"{"command":["x"],"node":"a","selector":{"zone":"b"}}"#, "selector"),
        (#"{"command":["x"],"env":{"1BAD":"v"}}"#, "env.1BAD"),
        (#"{"command":["x"],"retry":{"backoff":"random"}}"#, "retry.backoff"),
        (#"{"command":["x"],"retry":{"maxAttempts":0}}"#, "retry.maxAttempts"),
        (#"{"command":[""]}"#, "command[0]"),
    ])
    func outOfRangeValuesNameTheirField(json: String, field: String) throws {
        let found = try problem(json)
        #expect(found?.field == field)
        #expect(found?.code == "invalid_field")
    }

    @Test func oversizedArgumentIsRejected() throws {
        let big = String(repeating: "a", count: TaskLimits.maxArgumentBytes + 1)
        let found = try problem(#"{"command":["echo","\#(big)"]}"#)
        #expect(found?.field == "command[1]")
    }

    @Test func namesFollowTheDnsLabelRule() {
        #expect(NameRules.isValidName("edge-01"))
        #expect(!NameRules.isValidName(""))
        #expect(!NameRules.isValidName("Edge"))
        #expect(!NameRules.isValidName("a:b"))
        #expect(!NameRules.isValidName("{s1}"))
        #expect(!NameRules.isValidName(String(repeating: "a", count: 64)))
        #expect(NameRules.isValidName(String(repeating: "a", count: 63)))
    }
}

@Suite("Agent protocol frames")
struct AgentProtocolTests {
    @Test func framesRoundTripWithTypeField() throws {
        let messages: [AgentMessage] = [
            .hello(.init(tenant: "acme", node: "n1", zone: "a", rack: "r1", labels: ["arch": "x86_64"], capacity: 4, version: "1", token: "t", running: [.init(taskId: "x", attempt: 2)])),
            .dispatch(.init(taskId: "t1", attempt: 1, command: ["echo", "hi"], env: ["A": "b"], timeoutMs: 1000)),
            .finished(.init(taskId: "t1", attempt: 1, exitCode: 3, outputTail: "out", durationMs: 12)),
            .ping(.init(nonce: 7)), .ack(.init(taskId: "t1", attempt: 1)), .moved(.init(reason: "handoff")),
            .error(APIProblem(code: "unauthorized", message: "bad token")),
        ]
        for message in messages {
            let data = try JSONEncoder().encode(message)
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(object?["type"] as? String == message.type)
            #expect(try JSONDecoder().decode(AgentMessage.self, from: data) == message)
        }
    }

    @Test func unknownTypeIsAnError() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AgentMessage.self, from: Data(#"{"type":"explode"}"#.utf8))
        }
    }
}
