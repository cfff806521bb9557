import FluxAPI
import FluxAgent
import Foundation
import Testing

/// The real `fluxforge agent` process, found next to the test bundle, against the fake shard:
/// flags reach the hello, a dispatch runs, SIGTERM drains and exits 0.
@Suite struct AgentCommandTests {
    static var binary: URL? {
        let candidates = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])]
            .map { $0.deletingLastPathComponent().appendingPathComponent("fluxforge") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test(.enabled(if: binary != nil, "fluxforge binary not built next to the tests"))
    func agentProcessServesAndDrainsOnSIGTERM() async throws {
        try await withShard { shard in
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = [
                "agent", "--url", shard.url, "--tenant", "acme", "--node", "cli-1", "--zone", "z1", "--rack", "r9",
                "--label", "gpu=none", "--label", "os=linux", "--capacity", "3", "--allow", "sh",
                "--output-tail-bytes", "100", "--chaos-self-score", "0.9", "--log-level", "warning",
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(["FLUXFORGE_AGENT_TOKEN": "env-token"]) { $1 }
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) } }
            let hello = try #require(try await shard.waitFor("hello").first?.helloValue)
            #expect(hello.node == "cli-1" && hello.rack == "r9" && hello.capacity == 3)
            #expect(hello.labels == ["gpu": "none", "os": "linux"])
            #expect(hello.token == "env-token")
            try await shard.send(dispatch(["sh", "-c", "sleep 0.3; echo $FLUX_NODE; exit 2"]))
            try await shard.waitFor("started")
            kill(process.processIdentifier, SIGTERM)  // drains: the running attempt still reports
            let finished = try #require(try await shard.waitFor("finished").first?.finishedValue)
            #expect(finished.exitCode == 2 && finished.outputTail == "cli-1\n")
            try await eventually(upTo: .seconds(10), "agent exits") { !process.isRunning }
            #expect(process.terminationStatus == 0)
        }
    }
}
