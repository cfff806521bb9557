import Testing
@testable import FluxCore

@Suite struct DomainTests {
    @Test(arguments: ["a", "acme", "edge-01", "0", String(repeating: "z", count: 63)])
    func validNames(_ raw: String) throws {
        #expect(NameValidator.isValidName(raw))
        #expect(try TenantID(raw).rawValue == raw)
        #expect(try NodeID(raw).rawValue == raw)
    }

    @Test(arguments: ["", "Acme", "a_b", "a.b", "a b", "ü", String(repeating: "z", count: 64)])
    func invalidNames(_ raw: String) {
        #expect(!NameValidator.isValidName(raw))
        #expect(throws: FluxCoreError.invalidTenantName(raw)) { try TenantID(raw) }
        #expect(throws: FluxCoreError.invalidNodeName(raw)) { try NodeID(raw) }
    }

    @Test func taskIDLimits() throws {
        #expect(try TaskID("01HZX3-abc:9").rawValue == "01HZX3-abc:9")
        #expect(try TaskID(String(repeating: "x", count: 32)).rawValue.utf8.count == 32)
        #expect(throws: FluxCoreError.invalidTaskID("")) { try TaskID("") }
        #expect(throws: (any Error).self) { try TaskID(String(repeating: "x", count: 33)) }
        #expect(throws: (any Error).self) { try TaskID("has space") }
        #expect(throws: (any Error).self) { try TaskID("é") }
    }

    @Test func priorityClassRange() throws {
        #expect(try PriorityClass(0) == .highest)
        #expect(try PriorityClass(10) == .lowest)
        #expect(throws: FluxCoreError.invalidPriorityClass(11)) { try PriorityClass(11) }
        #expect(throws: (any Error).self) { try PriorityClass(-1) }
        #expect(PriorityClass.p0 < PriorityClass.p10)
    }

    @Test func stateRawValuesAreTheUppercaseNames() {
        let names = TaskState.allCases.map(\.rawValue)
        #expect(names == ["QUEUED", "ADMITTED", "DISPATCHED", "RUNNING", "SUCCEEDED", "FAILED", "REJECTED", "DEFERRED",
                          "RETRY_WAIT", "SHED", "SUSPENDED", "CANCELLED", "DEADLINE_EXCEEDED", "VERIFYING", "VERIFIED"])
    }

    @Test func legalTransitionsFollowTheLifecycle() throws {
        let legal: [(TaskState, TaskState)] = [
            (.queued, .admitted), (.queued, .rejected), (.queued, .deferred), (.queued, .shed),
            (.admitted, .dispatched), (.admitted, .shed), (.dispatched, .running), (.running, .succeeded),
            (.running, .failed), (.running, .retryWait), (.running, .suspended), (.retryWait, .admitted),
            (.deferred, .queued), (.suspended, .queued), (.running, .verifying), (.verifying, .verified),
            (.admitted, .deadlineExceeded), (.running, .cancelled),
        ]
        for (from, to) in legal {
            #expect(from.canTransition(to: to), "\(from) -> \(to) should be legal")
            #expect(try from.transition(to: to) == to)
        }
        let illegal: [(TaskState, TaskState)] = [
            (.queued, .dispatched), (.admitted, .running), (.succeeded, .queued), (.rejected, .admitted),
            (.retryWait, .dispatched), (.suspended, .admitted), (.shed, .admitted), (.queued, .succeeded),
        ]
        for (from, to) in illegal {
            #expect(!from.canTransition(to: to), "\(from) -> \(to) should be illegal")
            #expect(throws: FluxCoreError.illegalTransition(from: from, to: to)) { try from.transition(to: to) }
        }
    }

    @Test func terminalStatesHaveNoSuccessors() {
        for state in TaskState.allCases {
            #expect(state.isTerminal == state.legalSuccessors.isEmpty, "\(state)")
        }
    }

    @Test func durationMilliseconds() {
        #expect(Duration.seconds(2).wholeMilliseconds == 2_000)
        #expect(Duration.milliseconds(1_500).wholeMilliseconds == 1_500)
        #expect(Duration.microseconds(1_999).wholeMilliseconds == 1)
        #expect(Timestamp(milliseconds: 10).advanced(by: .seconds(1)) == Timestamp(milliseconds: 1_010))
    }

    @Test func labelSelectorIsCanonicalAndMatchesAllRequirements() {
        let selector = LabelSelector(["b": "2", "a": "1"])
        #expect(selector == LabelSelector(["a": "1", "b": "2"]))
        #expect(selector.description == "a=1,b=2")
        #expect(selector.matches(["a": "1", "b": "2", "c": "3"]))
        #expect(!selector.matches(["a": "1"]))
        #expect(!selector.matches(["a": "1", "b": "3"]))
    }
}
