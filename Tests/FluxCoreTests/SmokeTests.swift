import Testing
@testable import FluxCore

@Suite struct SmokeTests {
    @Test func submitTickFinish() {
        var scheduler = makeScheduler()
        let admitted = scheduler.handle(.taskSubmitted(spec("t1")), now: at(0))
        #expect(admitted.moves == ["t1:ADMITTED"])
        let dispatched = scheduler.handle(.tick, now: at(1))
        #expect(dispatched.dispatches == ["t1@n1#1"])
        let done = scheduler.handle(.taskFinished(task("t1"), attempt: 1, outcome: .succeeded), now: at(2))
        #expect(done.moves == ["t1:SUCCEEDED"])
        #expect(scheduler.counters.held == 0)
    }
}
