import Foundation
import Testing

/// A Dockerfile read as stages of instructions: comments dropped, `\` continuations joined.
/// Enough for the checks below, not a full parser (no heredocs, no parser directives).
struct Dockerfile {
    struct Stage {
        let base: String
        let name: String?
        var instructions: [(keyword: String, arguments: String)] = []

        func arguments(of keyword: String) -> [String] { instructions.filter { $0.keyword == keyword }.map(\.arguments) }
    }

    let stages: [Stage]

    init(text: String) {
        var stages: [Stage] = []
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        for line in joined.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let keyword = parts.first?.uppercased() else { continue }
            let arguments = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            if keyword == "FROM" {
                let words = arguments.split(separator: " ").map(String.init)
                let name = words.count >= 3 && words[1].uppercased() == "AS" ? words[2] : nil
                stages.append(Stage(base: words.first ?? "", name: name))
            } else if !stages.isEmpty {
                stages[stages.count - 1].instructions.append((keyword, arguments))
            }
        }
        self.stages = stages
    }
}

/// deploy/Dockerfile: a Swift build stage and a slim runtime stage that carries the right
/// libhiredis, the binary from the build stage, a non-root user and `fluxforge` as entrypoint.
@Suite("deploy/Dockerfile")
struct DockerfileTests {
    let dockerfile: Dockerfile

    init() throws {
        let text = try String(contentsOf: Repository.deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        dockerfile = Dockerfile(text: text)
    }

    /// hiredis' soname differs by release: the runtime package must be the one of the runtime
    /// image's release (Debian 12 and Ubuntu 22.04 ship 0.14, Ubuntu 24.04 and Debian 13 1.1.0).
    static let hiredisRuntimePackage = [
        "debian:bookworm": "libhiredis0.14", "debian:bookworm-slim": "libhiredis0.14", "ubuntu:jammy": "libhiredis0.14",
        "ubuntu:noble": "libhiredis1.1.0", "debian:trixie": "libhiredis1.1.0", "debian:trixie-slim": "libhiredis1.1.0",
    ]

    @Test func buildsAStaticStdlibReleaseBinaryInASwiftStage() throws {
        try #require(dockerfile.stages.count >= 2, "a build stage and a runtime stage")
        let build = dockerfile.stages[0]
        #expect(build.base.hasPrefix("swift:"), "build stage from \(build.base)")
        let runs = build.arguments(of: "RUN").joined(separator: "\n")
        #expect(runs.contains("libhiredis-dev"))
        #expect(runs.contains("swift build -c release --product fluxforge --static-swift-stdlib"))
    }

    @Test func runtimeStageInstallsTheHiredisOfItsRelease() throws {
        let build = try #require(dockerfile.stages.first), runtime = try #require(dockerfile.stages.last)
        let expected = try #require(Self.hiredisRuntimePackage[runtime.base], "unknown runtime base \(runtime.base): add its libhiredis package")
        let installs = runtime.arguments(of: "RUN").joined(separator: " ").split(separator: " ").map(String.init)
        #expect(installs.contains(expected), "runtime on \(runtime.base) needs \(expected)")
        #expect(!installs.contains("libhiredis-dev"), "the runtime stage takes the library, not the headers")
        // The build stage must link the same soname: same release, e.g. swift:6.3-bookworm → debian:bookworm-slim.
        let release = String(runtime.base.split(separator: ":").last ?? "").replacingOccurrences(of: "-slim", with: "")
        #expect(build.base.hasSuffix("-\(release)") || build.base.hasSuffix("-\(release)-slim"), "\(build.base) vs \(runtime.base)")
    }

    @Test func runtimeStageCopiesTheBinaryAndRunsItAsNonRoot() throws {
        let build = try #require(dockerfile.stages.first), runtime = try #require(dockerfile.stages.last)
        let buildName = try #require(build.name, "name the build stage so COPY --from can refer to it")
        let copies = runtime.arguments(of: "COPY").filter { $0.hasPrefix("--from=\(buildName) ") }
        #expect(copies.contains { $0.hasSuffix(" /usr/local/bin/fluxforge") }, "binary copied from \(buildName) onto PATH: \(copies)")
        let entrypoint = try #require(runtime.arguments(of: "ENTRYPOINT").last)
        #expect(try JSONDecoder().decode([String].self, from: Data(entrypoint.utf8)) == ["fluxforge"])
        let user = try #require(runtime.arguments(of: "USER").last, "runtime runs as root")
        #expect(!["root", "0", "0:0"].contains(user))
        #expect(user.first?.isNumber == true, "a numeric USER lets Kubernetes' runAsNonRoot verify it")
    }

    @Test func buildStageCopiesOnlyPathsThatExist() throws {
        let build = try #require(dockerfile.stages.first)
        let copies = build.arguments(of: "COPY").filter { !$0.hasPrefix("--") }
        #expect(!copies.isEmpty)
        for copy in copies {
            // `COPY src... dest`: every source is relative to the context, the repository root.
            for source in copy.split(separator: " ").dropLast() {
                let path = Repository.root.appendingPathComponent(String(source)).path
                #expect(FileManager.default.fileExists(atPath: path), "COPY \(source): not in the repository")
            }
        }
    }
}
