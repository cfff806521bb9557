import FluxAPI
import FluxAgent
import Foundation
import Logging

/// Runs `body` against a fresh fake shard, stopping it afterwards whatever happens.
func withShard(_ body: (FakeShard) async throws -> Void) async throws {
    let shard = try await FakeShard.start()
    do {
        try await body(shard)
    } catch {
        await shard.stop()
        throw error
    }
    await shard.stop()
}

/// Runs a real agent against `shard` for the duration of `body`, then shuts it down and waits
/// for `run()` to return. Logs go nowhere unless FLUX_TEST_LOGS is set.
func withAgent(
    _ shard: FakeShard, _ configure: (inout AgentConfiguration) -> Void = { _ in },
    _ body: (Agent) async throws -> Void
) async throws {
    var configuration = AgentConfiguration(
        url: shard.url, tenant: "acme", node: "edge-1", zone: "zone-a", rack: "rack-1",
        labels: ["arch": "x86_64"], capacity: 2, token: "dev-token", outputTailBytes: 256,
        healthInterval: .seconds(30), reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(200),
        shutdownGracePeriod: .milliseconds(500), resultFlushTimeout: .milliseconds(300))
    configure(&configuration)
    let agent = Agent(configuration: configuration, logger: testLogger())
    let running = Task { await agent.run() }
    do {
        try await body(agent)
    } catch {
        agent.shutdown()
        await running.value
        throw error
    }
    agent.shutdown()
    await running.value
}

func testLogger() -> Logger {
    guard ProcessInfo.processInfo.environment["FLUX_TEST_LOGS"] != nil else {
        return Logger(label: "agent-test", factory: { _ in SwiftLogNoOpLogHandler() })
    }
    return Logger(label: "agent-test", factory: { StreamLogHandler.standardError(label: $0) })
}

func dispatch(_ command: [String], id: String = "task-1", attempt: Int = 1, timeoutMs: Int = 10_000) -> AgentMessage {
    .dispatch(.init(taskId: id, attempt: attempt, command: command, env: [:], timeoutMs: timeoutMs))
}

extension AgentMessage {
    var finishedValue: Finished? {
        if case .finished(let value) = self { return value }
        return nil
    }
    var rejectedValue: Rejected? {
        if case .rejected(let value) = self { return value }
        return nil
    }
    var helloValue: Hello? {
        if case .hello(let value) = self { return value }
        return nil
    }
    var healthValue: Health? {
        if case .health(let value) = self { return value }
        return nil
    }
}
