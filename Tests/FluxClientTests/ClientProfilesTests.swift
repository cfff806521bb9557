import FluxClient
import Foundation
import Testing

@Suite struct ClientProfilesTests {
    let config = ClientConfig(current: "prod", profiles: [
        "prod": ClientProfile(url: "https://prod:7300", tenant: "acme", tokenFile: "/prod.token", caFile: "/ca.crt"),
        "ops": ClientProfile(url: "https://ops:7300", tenant: nil, tokenFile: "/ops.token", caFile: nil),
    ])
    let files = ["/prod.token": "prod-token\n", "/ops.token": "  ops-token  ", "/flag.token": "flag-token", "/env.token": "env-token", "/empty": "\n"]

    func resolve(_ overrides: ClientOverrides = ClientOverrides(), _ environment: [String: String] = [:]) throws -> ClientTarget {
        try config.resolve(overrides, environment: environment) { path in
            guard let text = files[path] else { throw ClientConfigError("no such file") }
            return text
        }
    }

    @Test func flagsOverTheEnvironmentOverTheProfile() throws {
        #expect(try resolve() == ClientTarget(url: "https://prod:7300", tenant: "acme", token: "prod-token", caFile: "/ca.crt"))
        // The environment replaces what it names, and picks the profile.
        let fromEnvironment = try resolve(ClientOverrides(), ["FLUXFORGE_PROFILE": "ops", "FLUXFORGE_TENANT": "beta", "FLUXFORGE_TOKEN": "env-direct"])
        #expect(fromEnvironment == ClientTarget(url: "https://ops:7300", tenant: "beta", token: "env-direct", caFile: nil))
        #expect(try resolve(ClientOverrides(), ["FLUXFORGE_TOKEN_FILE": "/env.token"]).token == "env-token")
        // Flags win over both.
        let flagged = try resolve(
            ClientOverrides(profile: "ops", url: "http://127.0.0.1:1", tenant: "gamma", tokenFile: "/flag.token", caFile: "/other.crt"),
            ["FLUXFORGE_URL": "http://env", "FLUXFORGE_TOKEN": "env-direct", "FLUXFORGE_TENANT": "beta"])
        #expect(flagged == ClientTarget(url: "http://127.0.0.1:1", tenant: "gamma", token: "flag-token", caFile: "/other.crt"))
        // An empty variable counts as not set.
        #expect(try resolve(ClientOverrides(), ["FLUXFORGE_URL": ""]).url == "https://prod:7300")
    }

    @Test func whatIsMissingIsNamed() throws {
        #expect(throws: ClientConfigError.self) { try resolve(ClientOverrides(profile: "nope")) }
        #expect(throws: ClientConfigError.self) { try resolve(ClientOverrides(tokenFile: "/empty")) }
        #expect(throws: ClientConfigError.self) { try resolve(ClientOverrides(tokenFile: "/missing")) }
        let empty = ClientConfig()
        #expect { try empty.resolve(ClientOverrides(), environment: [:]) { _ in "" } } throws: {
            "\($0)".contains("no API URL")
        }
        #expect { try empty.resolve(ClientOverrides(url: "http://x"), environment: [:]) { _ in "" } } throws: {
            "\($0)".contains("no token")
        }
    }

    @Test func theConfigFileRoundTripsAndIsTheOwnersAlone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ff-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fluxforge/config.json").path
        #expect(try ClientConfig.load(from: path) == ClientConfig())
        try config.save(to: path)
        #expect(try ClientConfig.load(from: path) == config)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ClientConfigError.self) { try ClientConfig.load(from: path) }
        #expect(ClientConfig.path(environment: ["FLUXFORGE_CONFIG": "/x.json"]) == "/x.json")
        #expect(ClientConfig.path(environment: ["XDG_CONFIG_HOME": "/xdg", "HOME": "/home/a"]) == "/xdg/fluxforge/config.json")
        #expect(ClientConfig.path(environment: ["HOME": "/home/a"]) == "/home/a/.config/fluxforge/config.json")
    }

    @Test func tablesAlignAndColourOnlyWhenAsked() {
        let table = TextTable(headers: ["ID", "STATE"], rows: [["a", "SUCCEEDED"], ["long-id", "FAILED"]])
        #expect(table.render() == "ID       STATE\na        SUCCEEDED\nlong-id  FAILED")
        let painted = table.render { column, cell in column == 1 ? Painter(enabled: true).state(cell) : cell }
        #expect(painted.contains("\u{1B}[32mSUCCEEDED\u{1B}[0m") && painted.contains("\u{1B}[31mFAILED\u{1B}[0m"))
        #expect(Painter(enabled: false).state("FAILED") == "FAILED")
    }

    @Test func progressSaysCountRateAndTimeLeft() {
        #expect(Progress(total: 10_000, done: 4_500, elapsedSeconds: 3).line == "[#########...........]  4,500/10,000  1,500/s  ETA 3.7s")
        #expect(Progress(total: 1_200, done: 1_200, elapsedSeconds: 0.5).line.hasSuffix("done in 0.5s"))
        #expect(Progress.grouped(1_234_567) == "1,234,567" && Progress.grouped(12) == "12")
    }

    @Test func aTaskFileIsCheckedWholeBeforeAnythingIsSent() throws {
        let tasks = try TaskFile.parse("# comment\n{\"command\":[\"true\"]}\n\n{\"command\":[\"echo\",\"x\"],\"priority\":3}\n")
        #expect(tasks.map(\.command) == [["true"], ["echo", "x"]] && tasks[1].priority == 3)
        #expect { try TaskFile.parse("{\"command\":[\"true\"]}\n{\"command\":[]}\n") } throws: { "\($0)".hasPrefix("line 2") }
        #expect { try TaskFile.parse("{\"command\":[\"true\"],\"colour\":1}") } throws: { "\($0)".contains("line 1") }
        #expect(throws: ClientConfigError.self) { try TaskFile.parse("# nothing\n") }
    }
}
