import FluxAPI
import FluxAgent
import Foundation
import Testing

/// A real agent against an in-test WebSocket server playing the shard, on loopback.
@Suite struct AgentSessionTests {
    @Test func helloCarriesTheNodesIdentity() async throws {
        try await withShard { shard in
            try await withAgent(shard) { _ in
                let hello = try #require(try await shard.waitFor("hello").first?.helloValue)
                #expect(hello.tenant == "acme" && hello.node == "edge-1")
                #expect(hello.zone == "zone-a" && hello.rack == "rack-1")
                #expect(hello.labels == ["arch": "x86_64"])
                #expect(hello.capacity == 2)
                #expect(hello.token == "dev-token")
                #expect(hello.version == AgentConfiguration.agentVersion)
                #expect(hello.running.isEmpty)
            }
        }
    }

    @Test func dispatchIsAcceptedStartedAndFinished() async throws {
        try await withShard { shard in
            try await withAgent(shard) { agent in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sh", "-c", "echo done; exit 3"]))
                let finished = try #require(try await shard.waitFor("finished").first?.finishedValue)
                #expect(finished.taskId == "task-1" && finished.attempt == 1)
                #expect(finished.exitCode == 3)
                #expect(finished.outputTail == "done\n")
                #expect(finished.timedOut == false)
                let order = shard.frames.map(\.message.type).filter { ["accepted", "started", "finished"].contains($0) }
                #expect(order == ["accepted", "started", "finished"])
                // The shard acked it, so nothing is left to resend.
                try await eventually("outbox empties") { agent.pendingResultCount == 0 }
            }
        }
    }

    @Test func pingIsAnsweredWithTheSameNonce() async throws {
        try await withShard { shard in
            try await withAgent(shard) { _ in
                try await shard.waitFor("hello")
                try await shard.send(.ping(.init(nonce: 424242)))
                let pong = try await shard.waitFor("pong").first
                #expect(pong == .pong(.init(nonce: 424242)))
            }
        }
    }

    @Test func commandOutsideTheAllowListIsRejected() async throws {
        try await withShard { shard in
            try await withAgent(shard, { $0.allowedCommands = ["echo"] }) { _ in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sh", "-c", "exit 0"], id: "bad"))
                try await shard.send(dispatch(["echo", "fine"], id: "good"))
                let rejected = try #require(try await shard.waitFor("rejected").first?.rejectedValue)
                #expect(rejected.taskId == "bad" && rejected.reason == AgentStateMachine.RejectReason.notAllowed)
                let finished = try await shard.waitFor("finished").compactMap(\.finishedValue)
                #expect(finished.map(\.taskId) == ["good"])
                #expect(shard.messages("accepted") == [.accepted(.init(taskId: "good", attempt: 1))])
            }
        }
    }

    @Test func overCapacityIsRejectedAndCancelKills() async throws {
        try await withShard { shard in
            try await withAgent(shard, { $0.capacity = 1 }) { _ in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sleep", "30"], id: "long"))
                try await shard.waitFor("started")
                try await shard.send(dispatch(["true"], id: "extra"))
                let rejected = try #require(try await shard.waitFor("rejected").first?.rejectedValue)
                #expect(rejected.taskId == "extra" && rejected.reason == AgentStateMachine.RejectReason.noCapacity)
                try await shard.send(.cancel(.init(taskId: "long", attempt: 1)))
                let finished = try #require(try await shard.waitFor("finished", upTo: .seconds(5)).first?.finishedValue)
                #expect(finished.taskId == "long")
                #expect(finished.exitCode == AgentExitCode.cancelled)
                #expect(finished.outputTail.hasSuffix(TaskExecutor.cancelMarker))
            }
        }
    }

    @Test func duplicateDispatchRunsOnce() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("flux-agent-dup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let command = ["sh", "-c", "echo ran >> '\(file)'; sleep 0.3"]
        try await withShard { shard in
            try await withAgent(shard) { agent in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(command))
                try await shard.send(dispatch(command))  // while running: accepted again, not run
                try await shard.waitFor("finished")
                try await eventually("ack processed") { agent.pendingResultCount == 0 }
                try await shard.send(dispatch(command))  // finished and acked: refused as duplicate
                try await shard.waitFor("rejected")
                shard.dropConnections()                   // and across a reconnect
                try await shard.waitFor("hello", count: 2)
                try await eventually("second session welcomed") { shard.connectionCount == 2 }
                try await shard.send(dispatch(command))
                let rejections = try await shard.waitFor("rejected", count: 2).compactMap(\.rejectedValue)
                #expect(rejections.allSatisfy { $0.reason == AgentStateMachine.RejectReason.duplicate })
                #expect(shard.messages("accepted").count == 2)  // the original and the repeat while running
                #expect(shard.messages("started").count == 1)
            }
        }
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["ran"])
    }

    @Test func unacknowledgedResultIsResentAfterReconnect() async throws {
        try await withShard { shard in
            shard.setBehaviour { $0.ack = false }
            try await withAgent(shard) { agent in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sh", "-c", "exit 5"]))
                try await shard.waitFor("finished", on: 1)
                shard.dropConnections()
                let resent = try #require(try await shard.waitFor("finished", on: 2).first?.finishedValue)
                #expect(resent.taskId == "task-1" && resent.exitCode == 5)
                #expect(agent.pendingResultCount == 1)
                // Now acknowledge it: after the next reconnect it must not come back.
                try await shard.send(.ack(.init(taskId: "task-1", attempt: 1)))
                try await eventually("ack processed") { agent.pendingResultCount == 0 }
                shard.dropConnections()
                try await shard.waitFor("hello", on: 3)
                try await shard.send(.ping(.init(nonce: 7)))  // a round trip after welcome
                try await shard.waitFor("pong", on: 3)
                #expect(shard.messages("finished", on: 3).isEmpty)
            }
        }
    }

    @Test func reconnectsAfterTheServerCloses() async throws {
        try await withShard { shard in
            try await withAgent(shard) { _ in
                try await shard.waitFor("hello")
                for round in 2...3 {
                    try await eventually("connection \(round - 1) open") { shard.connectionCount == round - 1 }
                    shard.dropConnections()
                    try await shard.waitFor("hello", count: round)
                }
                #expect(shard.connectionCount == 3)
            }
        }
    }

    @Test func movedTriggersAReconnect() async throws {
        try await withShard { shard in
            try await withAgent(shard) { _ in
                try await shard.waitFor("hello")
                try await shard.send(.moved(.init(reason: "slot 7 handed to shard-b")))
                try await shard.waitFor("hello", count: 2)
                #expect(shard.connectionCount == 2)
            }
        }
    }

    @Test func helloAfterReconnectListsRunningAttempts() async throws {
        try await withShard { shard in
            try await withAgent(shard) { _ in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sleep", "2"], id: "slow", attempt: 3))
                try await shard.waitFor("started")
                shard.dropConnections()
                let hellos = try await shard.waitFor("hello", count: 2).compactMap(\.helloValue)
                #expect(hellos.last?.running == [.init(taskId: "slow", attempt: 3)])
            }
        }
    }

    @Test func errorBeforeWelcomeBacksOffAndRetries() async throws {
        try await withShard { shard in
            shard.setBehaviour { $0.welcome = false }
            try await withAgent(shard) { _ in
                try await shard.waitFor("hello")
                try await shard.send(.error(.init(code: "unauthorized", message: "bad agent token")))
                try await shard.waitFor("hello", count: 2)
            }
        }
    }

    @Test func healthReportsTheForcedSelfScoreAtTheShardsPeriod() async throws {
        try await withShard { shard in
            shard.setBehaviour { $0.heartbeatIntervalMs = 50 }  // the welcome's period beats the configured 30 s
            try await withAgent(shard, { $0.chaosSelfScore = 0.97 }) { _ in
                let reports = try await shard.waitFor("health", count: 2).compactMap(\.healthValue)
                #expect(reports.allSatisfy { $0.selfScore == 0.97 && $0.running == 0 })
            }
        }
    }

    @Test func shutdownLetsRunningWorkFinishAndRefusesNewWork() async throws {
        try await withShard { shard in
            try await withAgent(shard, { $0.shutdownGracePeriod = .seconds(5) }) { agent in
                try await shard.waitFor("hello")
                try await shard.send(dispatch(["sh", "-c", "sleep 0.3; exit 4"], id: "in-flight"))
                try await shard.waitFor("started")
                agent.shutdown()
                try await shard.send(dispatch(["true"], id: "late"))
                let rejected = try #require(try await shard.waitFor("rejected").first?.rejectedValue)
                #expect(rejected.reason == AgentStateMachine.RejectReason.shuttingDown)
                let finished = try #require(try await shard.waitFor("finished").first?.finishedValue)
                #expect(finished.taskId == "in-flight" && finished.exitCode == 4)
            }
        }
    }
}
