import Foundation
import Testing
import Yams

/// Paths of the repository, found from this file's own path so the tests run from any directory.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let deploy = root.appendingPathComponent("deploy")
}

/// One parsed YAML value. A missing key or a value of another type reads as nil (or empty), so a
/// test states what it expects with `#expect` instead of unwrapping every level.
struct YAMLNode {
    let value: Any?

    subscript(key: String) -> YAMLNode { YAMLNode(value: (value as? [AnyHashable: Any])?[AnyHashable(key)]) }

    var exists: Bool { value != nil && !(value is NSNull) }
    var string: String? { value as? String }
    var int: Int? { value as? Int }
    var bool: Bool? { value as? Bool }
    var list: [YAMLNode] { (value as? [Any])?.map { YAMLNode(value: $0) } ?? [] }

    /// The entries of a mapping with string keys (empty for anything else).
    var map: [String: YAMLNode] {
        guard let mapping = value as? [AnyHashable: Any] else { return [:] }
        var result: [String: YAMLNode] = [:]
        for (key, value) in mapping { if let key = key.base as? String { result[key] = YAMLNode(value: value) } }
        return result
    }

    /// A list whose every element is a string, else nil. YAML reads an unquoted `7400` as a number
    /// and `yes` as a bool; Kubernetes then rejects the object, so argv lists must be all strings.
    var strings: [String]? {
        guard let items = value as? [Any] else { return nil }
        let strings = items.compactMap { $0 as? String }
        return strings.count == items.count ? strings : nil
    }

    /// A mapping of string to string (labels, selectors), nil if any value is not a string.
    var stringMap: [String: String]? {
        let entries = map.compactMapValues(\.string)
        return exists && entries.count == map.count ? entries : nil
    }
}

/// A YAML file under deploy/ with every document in it parsed.
struct ManifestFile {
    /// Path relative to deploy/, e.g. `k8s/shard.yaml`.
    let path: String
    let documents: [YAMLNode]

    static func load(_ path: String) throws -> ManifestFile {
        let text = try String(contentsOf: Repository.deploy.appendingPathComponent(path), encoding: .utf8)
        var sequence = try Yams.load_all(yaml: text)
        var documents: [YAMLNode] = []
        // YamlSequence ends early on a syntax error and keeps the error: surface it.
        while let document = sequence.next() { documents.append(YAMLNode(value: document)) }
        if let error = sequence.error { throw error }
        return ManifestFile(path: path, documents: documents.filter(\.exists))
    }

    /// Every `*.yaml` and `*.yml` under deploy/ (or under `directory` inside it), sorted by path.
    static func all(under directory: String = "") throws -> [ManifestFile] {
        let base = Repository.deploy.appendingPathComponent(directory)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        let paths = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        return try paths.sorted().map { try load(directory.isEmpty ? $0 : "\(directory)/\($0)") }
    }
}

/// A `fluxforge` command line found in a manifest: subcommand first, the binary's name dropped.
struct Invocation: Sendable, CustomStringConvertible {
    /// Where it was found, for failure messages (`compose.yaml shard-1`).
    let source: String
    let arguments: [String]

    /// Reads the argv of a container or service running the fluxforge image, whose ENTRYPOINT is
    /// the binary; an explicit `command` naming the binary is accepted too, also behind `tini --`.
    init?(source: String, image: String?, argv: [String]) {
        guard let image, image.hasPrefix("fluxforge") || image.contains("/fluxforge") else { return nil }
        self.source = source
        let unwrapped = argv.starts(with: ["tini", "--"]) ? Array(argv.dropFirst(2)) : argv
        arguments = unwrapped.first.map { $0 == "fluxforge" || $0.hasSuffix("/fluxforge") } == true ? Array(unwrapped.dropFirst()) : unwrapped
    }

    var subcommand: String { arguments.first ?? "" }
    var description: String { "\(source): fluxforge \(arguments.joined(separator: " "))" }

    /// Every `--flag` used, without values (`--id=x` counts as `--id`).
    var flags: [String] {
        arguments.filter { $0.hasPrefix("--") }.map { String($0.split(separator: "=", maxSplits: 1)[0]) }
    }

    /// The value given to `flag` (`--flag value` or `--flag=value`), nil if it is not passed.
    func value(of flag: String) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == flag, index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
        }
        return nil
    }
}
