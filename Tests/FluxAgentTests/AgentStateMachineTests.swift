import FluxAPI
import FluxAgent
import Testing

/// The session machine alone: events in, actions out, no sockets and no processes.
@Suite struct AgentStateMachineTests {
    typealias Attempt = AgentMessage.TaskAttempt

    func configuration(capacity: Int = 2, allowed: Set<String>? = nil, chaos: Double? = nil) -> AgentConfiguration {
        AgentConfiguration(
            url: "ws://127.0.0.1:1/v1/agent/connect", tenant: "acme", node: "n1", zone: "z", rack: "r",
            capacity: capacity, token: "t", allowedCommands: allowed, chaosSelfScore: chaos)
    }

    func readyMachine(capacity: Int = 2, allowed: Set<String>? = nil) -> AgentStateMachine {
        var machine = AgentStateMachine(configuration: configuration(capacity: capacity, allowed: allowed))
        _ = machine.connected()
        _ = machine.received(.welcome(.init(shard: "s1", heartbeatIntervalMs: 1000)))
        return machine
    }

    func dispatch(_ id: String, attempt: Int = 1, command: [String] = ["true"]) -> AgentMessage {
        .dispatch(.init(taskId: id, attempt: attempt, command: command, env: [:], timeoutMs: 1000))
    }

    func finished(_ id: String, attempt: Int = 1, exitCode: Int = 0) -> AgentMessage.Finished {
        .init(taskId: id, attempt: attempt, exitCode: exitCode, outputTail: "", durationMs: 1)
    }

    @Test func dispatchIsAcceptedAndStartedOnce() {
        var machine = readyMachine()
        let first = machine.received(dispatch("a"))
        #expect(first.count == 2)
        #expect(first.first == .send(.accepted(Attempt(taskId: "a", attempt: 1))))
        // A repeat while running re-acknowledges and starts nothing.
        #expect(machine.received(dispatch("a")) == [.send(.accepted(Attempt(taskId: "a", attempt: 1)))])
        // A new attempt of the same task is a different attempt.
        #expect(machine.received(dispatch("a", attempt: 2)).count == 2)
    }

    @Test func repeatAfterFinishResendsTheResultThenRefusesAfterAck() {
        var machine = readyMachine()
        _ = machine.received(dispatch("a"))
        let result = finished("a", exitCode: 9)
        #expect(machine.taskFinished(result) == [.send(.finished(result))])
        #expect(machine.received(dispatch("a")) == [.send(.finished(result))])
        _ = machine.received(.ack(Attempt(taskId: "a", attempt: 1)))
        let refused = machine.received(dispatch("a"))
        #expect(refused == [.send(.rejected(.init(taskId: "a", attempt: 1, reason: "duplicate")))])
    }

    @Test func overCapacityAndOffListAreRejectedAndRemembered() {
        var machine = readyMachine(capacity: 1, allowed: ["true", "sleep"])
        _ = machine.received(dispatch("a"))
        let full = machine.received(dispatch("b"))
        #expect(full == [.send(.rejected(.init(taskId: "b", attempt: 1, reason: "no_capacity")))])
        let offList = machine.received(dispatch("c", command: ["rm", "-rf", "/"]))
        #expect(offList == [.send(.rejected(.init(taskId: "c", attempt: 1, reason: "not_allowed")))])
        #expect(machine.outbox.count == 2)
        // Capacity freed: the same attempt b is still never run (it was answered already).
        _ = machine.taskFinished(finished("a"))
        #expect(machine.received(dispatch("b")) == full)
    }

    @Test func malformedDispatchIsRejected() {
        var machine = readyMachine()
        let empty = machine.received(.dispatch(.init(taskId: "e", attempt: 1, command: [], env: [:], timeoutMs: 1000)))
        #expect(empty == [.send(.rejected(.init(taskId: "e", attempt: 1, reason: "invalid_dispatch")))])
        let badEnv = machine.received(.dispatch(.init(taskId: "f", attempt: 1, command: ["true"], env: ["A=B": "x"], timeoutMs: 1000)))
        #expect(badEnv == [.send(.rejected(.init(taskId: "f", attempt: 1, reason: "invalid_dispatch")))])
    }

    @Test func resultsWaitForTheNextWelcome() {
        var machine = readyMachine()
        _ = machine.received(dispatch("a"))
        _ = machine.received(dispatch("b"))
        machine.disconnected()
        #expect(machine.taskFinished(finished("b")) == [])  // no session: kept, not sent
        #expect(machine.taskFinished(finished("a")) == [])
        #expect(machine.healthTick() == [])
        let hello = machine.connected()
        guard case .send(.hello(let body)) = hello.first else {
            Issue.record("expected hello, got \(hello)")
            return
        }
        #expect(body.running.isEmpty)
        // Dispatches before welcome are not taken.
        #expect(machine.received(dispatch("c")) == [.ignored("dispatch before welcome")])
        let resent = machine.received(.welcome(.init(shard: "s2", heartbeatIntervalMs: 1000)))
        #expect(resent == [.send(.finished(finished("b"))), .send(.finished(finished("a")))])
    }

    @Test func helloListsRunningAttemptsInOrder() {
        var machine = readyMachine()
        _ = machine.received(dispatch("b", attempt: 2))
        _ = machine.received(dispatch("a", attempt: 5))
        machine.disconnected()
        guard case .send(.hello(let hello)) = machine.connected().first else {
            Issue.record("expected hello")
            return
        }
        #expect(hello.running == [Attempt(taskId: "a", attempt: 5), Attempt(taskId: "b", attempt: 2)])
    }

    @Test func controlFrames() {
        var machine = readyMachine()
        #expect(machine.received(.ping(.init(nonce: 3))) == [.send(.pong(.init(nonce: 3)))])
        #expect(machine.received(.moved(.init(reason: "handoff"))) == [.closeSession(.moved("handoff"))])
        _ = machine.received(dispatch("a"))
        #expect(machine.received(.cancel(Attempt(taskId: "a", attempt: 1))) == [.kill(Attempt(taskId: "a", attempt: 1))])
        #expect(machine.received(.cancel(Attempt(taskId: "zz", attempt: 1))).count == 1)  // logged, nothing killed
        var fresh = AgentStateMachine(configuration: configuration())
        _ = fresh.connected()
        let problem = APIProblem(code: "unauthorized", message: "bad token")
        #expect(fresh.received(.error(problem)) == [.closeSession(.refused(problem))])
    }

    @Test func drainingRefusesNewWork() {
        var machine = readyMachine()
        machine.beginShutdown()
        #expect(machine.received(dispatch("a")) == [.send(.rejected(.init(taskId: "a", attempt: 1, reason: "shutting_down")))])
    }

    @Test func healthUsesTheChaosScoreWhenSet() {
        var machine = AgentStateMachine(configuration: configuration(chaos: 0.99))
        _ = machine.connected()
        _ = machine.received(.welcome(.init(shard: "s", heartbeatIntervalMs: 1)))
        #expect(machine.healthTick() == [.send(.health(.init(selfScore: 0.99, running: 0)))])
    }

    @Test func agentFaultsLowerTheMeasuredSelfScore() {
        var machine = readyMachine()
        _ = machine.received(dispatch("a"))
        _ = machine.taskFinished(finished("a", exitCode: 1))  // the command's failure: no effect
        #expect(machine.healthTick() == [.send(.health(.init(selfScore: 1, running: 0)))])
        _ = machine.received(dispatch("b"))
        _ = machine.taskFinished(finished("b", exitCode: 126), agentFault: true)
        guard case .send(.health(let health)) = machine.healthTick().first else {
            Issue.record("expected health")
            return
        }
        #expect(health.selfScore < 1 && health.selfScore > 0.5)
    }
}
