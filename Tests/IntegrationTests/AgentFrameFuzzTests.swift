import FluxAPI
import FluxTesting
import Foundation
import Testing

/// The hostile-agent fuzz (issue 15): one tenant's agents send seeded random frames — valid
/// shapes with wild values, wrong types, truncations, garbage, deep nesting, forged results for
/// another tenant's tasks, a second hello — over real WebSocket sessions. The shard must stay up,
/// its memory bounded, and the other tenant's tasks complete with their own results.
@Suite("Agent frame fuzz", .serialized)
struct AgentFrameFuzzTests {
    /// SplitMix64: a tiny, seeded generator, so a failing run can be replayed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func int() -> Int {
            switch below(4) {
            case 0: Int(truncatingIfNeeded: next())
            case 1: below(3)
            case 2: -below(1_000)
            default: Int.max - below(2)
            }
        }
        mutating func text(_ length: Int) -> String {
            let alphabet = Array("abcxyz019 \\\"\n\t{}[]:,é漢🙂\u{0}\u{7f}")
            return String((0..<length).map { _ in alphabet[below(alphabet.count)] })
        }
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// One random frame (now and then larger than a WebSocket frame may be: the transport closes
    /// that session); `victims` are task ids of the other tenant, to forge results for.
    static func frame(_ random: inout Random, victims: [String]) -> String {
        let id = victims.isEmpty || random.below(2) == 0 ? random.text(15) : victims[random.below(victims.count)]
        switch random.below(12) {
        case 0:
            return json(["type": "finished", "taskId": id, "attempt": random.int(), "exitCode": random.int(),
                         "outputTail": random.text(random.below(40) == 0 ? 70_000 : 40), "durationMs": random.int(), "timedOut": random.below(2) == 0])
        case 1: return json(["type": ["started", "accepted"][random.below(2)], "taskId": id, "attempt": random.int()])
        case 2: return json(["type": "rejected", "taskId": id, "attempt": random.int(), "reason": random.text(random.below(2_000))])
        case 3: return json(["type": "health", "selfScore": [1e308, -5, 0.5][random.below(3)], "running": random.int()])
        case 4: return json(["type": "pong", "nonce": random.int()])
        case 5: return LyingAgentTests.json(HostileAgentTests.hello(["acme", "evil"][random.below(2)], node: "edge-1", token: "guess"))
        case 6: return #"{"type":"finished","taskId":123,"attempt":"x","exitCode":null,"outputTail":{},"durationMs":[]}"#
        case 7:
            let whole = json(["type": "finished", "taskId": id, "attempt": 1, "exitCode": 0, "outputTail": "", "durationMs": 1])
            return String(whole.prefix(random.below(whole.count)))
        case 8: return random.text(random.below(500))
        case 9:
            let depth = 1 + random.below(random.below(40) == 0 ? 100_000 : 3_000)
            return #"{"type":"health","selfScore":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        case 10: return ["{}", "[]", "null", "\"\"", #"{"type":"dispatch"}"#, #"{"type":""}"#, #"{"type":null}"#][random.below(7)]
        default: return json(["type": "finished", "taskId": id, "attempt": 1, "exitCode": 0, "outputTail": "forged", "durationMs": 1])
        }
    }

    static func residentMiB(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1_024
    }

    @Test(arguments: [UInt64(42), 7_001])
    func randomFramesNeitherStopTheShardNorTouchAnotherTenant(seed: UInt64) async throws {
        let cluster = try await ShardHarness(extraArguments: ["--agent-frames-per-second", "2000"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        let (_, evilAgentToken) = try await cluster.createTenant("evil")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let pid = try #require(cluster.shard.pid)
        let before = Self.residentMiB(pid)

        // The other tenant's work, submitted first so the fuzz can aim forged results at it.
        var ids: [String] = []
        for index in 0..<20 {
            ids.append(try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "sleep 0.2; echo acme-\(index)"])))
        }
        var random = Random(state: seed)
        var sent = 0
        var session = 0
        var closedWith: Set<String> = []
        while sent < 4_000 {
            let frames = (0..<(50 + random.below(350))).map { _ in Self.frame(&random, victims: ids) }
            sent += frames.count
            session += 1
            let seen = try await HostileAgentTests.play(
                url: cluster.agentURL, hello: HostileAgentTests.hello("evil", node: "fuzz-\(session % 5)", token: evilAgentToken),
                frames: frames, timeout: .seconds(2))
            closedWith.formUnion(seen.errors)
        }

        #expect(try await cluster.request("GET", "/readyz").status == 200, "the shard is down after \(sent) fuzzed frames (seed \(seed))")
        for (index, id) in ids.enumerated() {
            let task = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED", "CANCELLED"], timeout: .seconds(30))
            #expect(task.state == "SUCCEEDED" && task.result?.outputTail == "acme-\(index)\n", "seed \(seed): \(task)")
        }
        // The frames reached the shard's checks: forged and unknown results were counted and
        // dropped, garbage ended sessions.
        let text = try await cluster.request("GET", "/metrics").text
        let metrics = try PrometheusText(text)
        let agentLines = text.split(separator: "\n").filter { $0.hasPrefix("flux_agent_") }
        #expect(metrics.value("flux_agent_frames_rejected_total", ["reason": "unknown_task"]) ?? 0 > 0, "\(agentLines)")
        #expect(metrics.value("flux_agent_sessions_closed_total", ["reason": "malformed_frames"]) ?? 0 > 0, "\(agentLines)")
        #expect(closedWith.contains("malformed_frames"), "sessions were told: \(closedWith)")
        let after = Self.residentMiB(pid)
        #expect(after - before < 200, "the shard grew from \(before) to \(after) MiB over \(session) fuzzed sessions (seed \(seed))")
    }
}
