import FluxAPI
import FluxTesting
import Foundation
import Testing

/// The `fluxforge` CLI end to end (docs/cli.md): the real binary, as a person runs it, against a
/// real router and shard. Each run gets its own config file through `FLUXFORGE_CONFIG`.
@Suite(.serialized) struct CLITests {
    @Test func aTenantWorksFromTheCLIWithoutCurl() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let cli = try CLI()
        defer { cli.remove() }
        let tokenFile = try cli.write("acme.token", token + "\n")

        // Login checks the token, then saves a profile that holds the file's path, not the token.
        let bad = try await cli.run(["login", "--url", cluster.baseURL, "--tenant", "acme", "--token-file", try cli.write("wrong.token", "nope")])
        #expect(bad.status == 1 && bad.stderr.contains("error: forbidden"), "\(bad)")
        #expect(!FileManager.default.fileExists(atPath: cli.config), "a refused login saved a profile")
        let login = try await cli.run(["login", "--url", cluster.baseURL, "--tenant", "acme", "--token-file", tokenFile])
        #expect(login.status == 0, "\(login)")
        let config = try String(contentsOfFile: cli.config, encoding: .utf8)
        #expect(config.contains(tokenFile) && !config.contains(token), "\(config)")
        #expect(try FileManager.default.attributesOfItem(atPath: cli.config)[.posixPermissions] as? Int == 0o600)

        // --wait: the changes live on stderr, the output on stdout, the task's exit code as ours.
        let failing = try await cli.run(["tasks", "submit", "--wait", "--max-attempts", "1", "--", "sh", "-c", "echo from-the-task; exit 3"])
        #expect(failing.status == 3, "\(failing)")
        #expect(failing.stdout == "from-the-task\n", "\(failing)")
        for state in ["QUEUED", "RUNNING", "FAILED"] { #expect(failing.stderr.contains(state), "\(state) missing: \(failing.stderr)") }
        let succeeding = try await cli.run(["tasks", "submit", "--wait", "--", "echo", "hello"])
        #expect(succeeding.status == 0 && succeeding.stdout == "hello\n", "\(succeeding)")
        #expect(!succeeding.stdout.contains("\u{1B}["), "colours in piped output")

        // Without --wait: the id alone on stdout, for scripts; then every read command on it.
        let submitted = try await cli.run(["tasks", "submit", "--priority", "2", "--env", "GREETING=hi", "--", "sh", "-c", "echo $GREETING"])
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(submitted.status == 0 && id.count == 15, "\(submitted)")
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED"])
        let got = try await cli.run(["tasks", "get", id, "-o", "json"])
        let task = try JSONDecoder().decode(TaskView.self, from: Data(got.stdout.utf8))
        #expect(task.id == id && task.priority == 2 && task.result?.outputTail == "hi\n", "\(got)")
        let timeline = try await cli.run(["tasks", "timeline", id])
        #expect(timeline.stdout.hasPrefix("TIME") && timeline.stdout.contains("SUCCEEDED"), "\(timeline)")
        #expect(try await cli.run(["tasks", "explain", id]).stdout.contains(id))
        let listing = try await cli.run(["tasks", "ls", "--state", "SUCCEEDED"])
        #expect(listing.stdout.contains(id) && !listing.stdout.contains("FAILED"), "\(listing)")
        let watched = try await cli.run(["tasks", "watch", id])
        #expect(watched.status == 0 && watched.stdout.contains("end: SUCCEEDED"), "\(watched)")
        let nodes = try await cli.run(["nodes", "ls"])
        #expect(nodes.stdout.contains("edge-1") && nodes.stdout.contains("connected"), "\(nodes)")

        // Cancel a task held running; declare a desired state from a file and see it listed.
        let gate = try ReleaseGate()
        defer { gate.remove() }
        let held = try await cli.run(["tasks", "submit", "--"] + gate.command(then: "true"))
        let heldID = held.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: heldID, ["RUNNING"])
        let cancelled = try await cli.run(["tasks", "cancel", heldID])
        #expect(cancelled.status == 0, "\(cancelled)")
        _ = try await cluster.waitForState(tenant: "acme", token: token, id: heldID, ["CANCELLED"])
        let spec = try cli.write("motd.json", #"{"check":["true"],"apply":["true"],"intervalSeconds":5}"#)
        let applied = try await cli.run(["desired", "apply", "motd", "-f", spec])
        #expect(applied.status == 0 && applied.stdout.contains("generation 1"), "\(applied)")
        #expect(try await cli.run(["desired", "ls"]).stdout.contains("motd"))

        // Errors: a malformed id never reaches the API; an unknown one prints the API's refusal.
        let malformed = try await cli.run(["tasks", "get", "../etc"])
        #expect(malformed.status == 1 && malformed.stderr.contains("is not a task id"), "\(malformed)")
        let unknown = try await cli.run(["tasks", "get", "aaaaaaaaaaaaaaa"])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("error: not_found"), "\(unknown)")
        let invalid = try await cli.run(["tasks", "submit", "--priority", "99", "--", "true"])
        #expect(invalid.status != 0 && invalid.stderr.contains("priority"), "\(invalid)")
    }

    @Test func aFileOfTasksIsSubmittedInBatchesAndNeverTwice() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a"])
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("bulk", settings: TenantSettings(maxQueued: 5_000))
        let cli = try CLI()
        defer { cli.remove() }
        cli.environment["FLUXFORGE_URL"] = cluster.baseURL
        cli.environment["FLUXFORGE_TENANT"] = "bulk"
        cli.environment["FLUXFORGE_TOKEN"] = token

        // A bad line anywhere: nothing is sent.
        let broken = try cli.write("broken.jsonl", "{\"command\":[\"true\"]}\n{\"command\":[\"true\"],\"priority\":\"high\"}\n")
        let refused = try await cli.run(["tasks", "submit", "--file", broken])
        #expect(refused.status == 1 && refused.stderr.contains("line 2"), "\(refused)")
        #expect(try await Self.count(cluster, token) == 0)

        let lines = (0..<1_200).map { #"{"command":["echo","\#($0)"],"priority":\#($0 % 10)}"# }
        let file = try cli.write("tasks.jsonl", "# 1,200 tasks\n" + lines.joined(separator: "\n") + "\n")
        let first = try await cli.run(["tasks", "submit", "--file", file, "--batch-size", "500"])
        #expect(first.status == 0 && first.stdout.hasPrefix("submitted 1,200 tasks"), "\(first)")
        #expect(try await Self.count(cluster, token) == 1_200)
        // The same command again (an interrupted run retried): the same batches, nothing new.
        let again = try await cli.run(["tasks", "submit", "--file", file, "--batch-size", "500", "-o", "json"])
        let accepted = try JSONDecoder().decode(TaskBatchAccepted.self, from: Data(again.stdout.utf8))
        #expect(accepted.tasks.count == 1_200, "\(again.stderr)")
        #expect(try await Self.count(cluster, token) == 1_200)
    }

    @Test func anOperatorSeesTheClusterAndTenantsAndSetsTheMode() async throws {
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"])
        defer { cluster.stopAll() }
        _ = try await cluster.createTenant("acme")
        let cli = try CLI()
        defer { cli.remove() }
        let login = try await cli.run(["login", "--profile", "ops", "--url", cluster.baseURL, "--token-file", try cli.write("admin.token", cluster.adminToken)])
        #expect(login.status == 0, "\(login)")

        let status = try await cli.run(["cluster", "status", "-o", "json"])
        let view = try JSONDecoder().decode(ClusterView.self, from: try Self.field("cluster", of: status.stdout))
        #expect(Set(view.members.map(\.id)) == ["shard-a", "shard-b"] && view.members.map(\.slotsHeld).reduce(0, +) == 256, "\(status)")
        let table = try await cli.run(["cluster", "status"])
        for member in view.members { #expect(table.stdout.contains(member.id) && table.stdout.contains(String(member.slotsHeld)), "\(table)") }
        #expect(try await cli.run(["tenants", "ls"]).stdout.contains("acme"))

        let degraded = try await cli.run(["cluster", "mode", "DEGRADED", "--shard", "shard-b"])
        #expect(degraded.status == 0 && degraded.stdout.contains("DEGRADED"), "\(degraded)")
        try await cluster.eventually("shard-b DEGRADED in cluster status") {
            let modes = try JSONDecoder().decode(ClusterSnapshotView.self, from: try Self.field("snapshot", of: try await cli.run(["cluster", "status", "-o", "json"]).stdout))
            return modes.shards.first { $0.shard == "shard-b" }?.mode.mode == "DEGRADED" && modes.shards.first { $0.shard == "shard-a" }?.mode.mode == "NORMAL"
        }
        #expect(try await cli.run(["cluster", "mode", "auto"]).status == 0)
        // A tenant command with an admin profile and no tenant says what is missing.
        let noTenant = try await cli.run(["tasks", "ls"])
        #expect(noTenant.status == 1 && noTenant.stderr.contains("no tenant"), "\(noTenant)")
    }

    @Test func joinTokensAndCertificatesAreManagedFromTheCLI() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-cli-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try EnrollmentTests.makeCA(in: directory)
        let cluster = try await EnrollmentTests.cluster(ca: ca.path)
        defer { cluster.stopAll() }
        let (token, _) = try await cluster.createTenant("acme")
        let cli = try CLI()
        defer { cli.remove() }
        cli.environment["FLUXFORGE_URL"] = cluster.baseURL
        cli.environment["FLUXFORGE_TENANT"] = "acme"
        cli.environment["FLUXFORGE_TOKEN"] = token

        // A token for two nodes named edge-*, shown once with the CA pin an agent checks.
        let created = try await cli.run(["join-tokens", "create", "--max-uses", "2", "--node-pattern", "edge-*", "-o", "json"])
        let join = try JSONDecoder().decode(JoinTokenCreated.self, from: Data(created.stdout.utf8))
        #expect(created.status == 0 && join.maxUses == 2 && join.caHash == ca.pin, "\(created)")
        let listed = try await cli.run(["join-tokens", "ls"])
        #expect(listed.stdout.contains(join.id) && !listed.stdout.contains(join.token), "\(listed)")
        // An agent enrolls with it; its certificate is then revoked by node from the CLI.
        let enrolled = try EnrollmentTests.enroll(
            cluster, tenant: "acme", node: "edge-1", token: join.token, caHash: join.caHash, stateDir: directory.appendingPathComponent("edge-1").path)
        #expect(enrolled.status == 0, "\(enrolled.output)")
        let revoked = try await cli.run(["certificates", "revoke", "--node", "edge-1", "-o", "json"])
        let serial = (try? JSONDecoder().decode([String: String].self, from: revoked.body))?["serial"]
        #expect(revoked.status == 0 && serial != nil, "\(revoked)")
        let again = try await cli.run(["join-tokens", "revoke", join.id])
        #expect(again.status == 0, "\(again)")
        #expect(try await EnrollmentTests.usesLeft(cluster, tenant: "acme", token: token, id: join.id) == nil, "revoked tokens are not listed")
        // By serial is the admin's; a tenant token is refused with the API's code.
        let forbidden = try await cli.run(["certificates", "revoke", "--serial", serial ?? "00"])
        #expect(forbidden.status == 1 && forbidden.stderr.hasPrefix("error: forbidden"), "\(forbidden)")
        let byAdmin = try await cli.run(["certificates", "revoke", "--serial", serial ?? "00", "--token-file", try cli.write("admin.token", cluster.adminToken)])
        #expect(byAdmin.status == 0, "\(byAdmin)")
    }

    // MARK: - Helpers

    static func count(_ cluster: RouterHarness, _ token: String) async throws -> Int {
        var total = 0
        var cursor: String?
        repeat {
            let response = try await cluster.request("GET", "/v1/tenants/bulk/tasks?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            let page = try JSONDecoder().decode(TaskPage.self, from: response.body)
            total += page.tasks.count
            cursor = page.nextCursor
        } while cursor != nil
        return total
    }

    static func field(_ name: String, of json: String) throws -> Data {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        return try JSONSerialization.data(withJSONObject: try #require(object[name], "no \(name) in \(json)"))
    }
}

/// Runs the real `fluxforge` binary with a config file of its own, stdout and stderr apart.
final class CLI: @unchecked Sendable {
    let directory: URL
    var config: String { directory.appendingPathComponent("config.json").path }
    var environment: [String: String]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxforge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]
        environment["FLUXFORGE_CONFIG"] = directory.appendingPathComponent("config.json").path
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Run: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)" }
        var body: Data { Data(stdout.utf8) }
    }

    /// One invocation, at most 60 s; output goes to files, so a large answer never blocks a pipe.
    func run(_ arguments: [String]) async throws -> Run {
        let environment = environment
        return try await offThePool { try Self.run(arguments, environment: environment, in: self.directory) }
    }

    static func run(_ arguments: [String], environment: [String: String], in directory: URL) throws -> Run {
        let id = UUID().uuidString
        let out = directory.appendingPathComponent("\(id).out"), err = directory.appendingPathComponent("\(id).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = try FluxProcess.binary()
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date() + 60
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
