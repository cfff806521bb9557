import FluxTesting
import Foundation
import Testing

/// Every `fluxforge <role> --flag` the manifests pass exists in the real binary: a renamed or
/// removed flag makes a container exit at start, which parsing YAML alone would never notice.
/// The binary is the one cluster/test builds (`FLUXFORGE_BINARY`, else `.build/debug/fluxforge`).
@Suite("Manifest flags exist in the binary")
struct FlagCrossCheckTests {
    /// Every fluxforge command line in compose.yaml and deploy/k8s, and the ones the patches in
    /// deploy/k8s/patches make of them.
    static func invocations() throws -> [Invocation] {
        let compose = try ManifestFile.load("compose.yaml").documents.first?["services"].map ?? [:]
        let fromCompose = compose.sorted { $0.key < $1.key }.compactMap { name, service in
            Invocation(source: "compose.yaml \(name)", image: service["image"].string, argv: service["command"].strings ?? [])
        }
        let objects = try KubernetesObject.all()
        let fromKubernetes = objects.filter(\.isWorkload).flatMap { $0.invocations.map(\.invocation) }
        return fromCompose + fromKubernetes + (try KubernetesPatch.invocations(objects: objects))
    }

    /// The output of `fluxforge <subcommand> --help` (ArgumentParser prints it and exits 0).
    static func help(_ subcommand: String) throws -> String {
        try combinedOutput(of: try FluxProcess.binary(), [subcommand, "--help"]).output
    }

    /// The `--long` options a help text lists.
    static func options(in help: String) -> Set<String> {
        let words = help.split { !($0.isLetter || $0.isNumber || $0 == "-") }
        return Set(words.filter { $0.hasPrefix("--") }.map(String.init))
    }

    @Test(arguments: ["shard", "router", "agent"])
    func everyFlagPassedToTheRoleIsAnOptionOfIt(role: String) throws {
        let uses = try Self.invocations().filter { $0.subcommand == role }
        #expect(uses.count >= 2, "compose.yaml and deploy/k8s both run `fluxforge \(role)`")
        let help = try Self.help(role)
        // An unknown subcommand with --help prints the top-level help and still exits 0.
        let usage = help.split(separator: "\n").first { $0.hasPrefix("USAGE:") }.map(String.init) ?? ""
        try #require(usage.hasPrefix("USAGE: fluxforge \(role) "), "the binary has no `\(role)` subcommand")
        let options = Self.options(in: help)
        var unknown: [String: [String]] = [:]
        for use in uses {
            for flag in use.flags where !options.contains(flag) { unknown[flag, default: []].append(use.source) }
        }
        for (flag, sources) in unknown.sorted(by: { $0.key < $1.key }) {
            Issue.record("fluxforge \(role) has no option \(flag), passed by \(sources.joined(separator: ", "))")
        }
    }
}
