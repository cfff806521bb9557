/// One strategic-merge patch of deploy/k8s/patches (`redis-cluster-shard.yaml`, …): the workload
/// it targets by kind and name, and the containers whose `args` and `env` it replaces. The
/// kustomization files there are not patches and are left out (`kustomizations()` reads them).
struct KubernetesPatch {
    /// Where the patches live, relative to deploy/.
    static let directory = "k8s/patches"

    /// Path relative to deploy/.
    let file: String
    let node: YAMLNode

    var kind: String { node["kind"].string ?? "" }
    var name: String { node["metadata"]["name"].string ?? "" }
    var label: String { "\(file) \(kind)/\(name)" }
    var containers: [YAMLNode] { node["spec"]["template"]["spec"]["containers"].list }

    /// Every patch under deploy/k8s/patches, in file order.
    static func all() throws -> [KubernetesPatch] {
        try ManifestFile.all(under: directory).flatMap { file in
            file.documents.filter { $0["kind"].string != "Kustomization" }.map { KubernetesPatch(file: file.path, node: $0) }
        }
    }

    /// The kustomization files under deploy/k8s/patches.
    static func kustomizations() throws -> [ManifestFile] {
        try ManifestFile.all(under: directory).filter { $0.documents.first?["kind"].string == "Kustomization" }
    }

    /// The object this patch applies to, among `objects`.
    func target(in objects: [KubernetesObject]) -> KubernetesObject? {
        objects.first { $0.kind == kind && $0.name == name }
    }

    /// The patched container and the target's container of the same name, for every container
    /// the patch names (nil for the target's half when it has no such container).
    func containerPairs(in target: KubernetesObject) -> [(patched: YAMLNode, base: YAMLNode?)] {
        containers.map { patched in (patched, target.containers.first { $0["name"].string == patched["name"].string }) }
    }

    /// The `env` entries of a patched container without the `$patch: replace` directive, and
    /// whether that directive comes first: then the list replaces the workload's whole, in this
    /// order, whatever tool merges it.
    static func environment(_ container: YAMLNode) -> (entries: [YAMLNode], replacesList: Bool) {
        let list = container["env"].list
        let replaces = list.first?["$patch"].string == "replace"
        return (list.filter { !$0["$patch"].exists }, replaces)
    }

    /// The fluxforge command line of `base` once patched with `patched`: the base's `command`
    /// and the patch's `args` (a list of strings has no merge key: it is replaced whole).
    func invocation(patched: YAMLNode, base: YAMLNode) -> Invocation? {
        let argv = (base["command"].strings ?? []) + (patched["args"].strings ?? base["args"].strings ?? [])
        return Invocation(source: "\(label) container \(patched["name"].string ?? "?")", image: base["image"].string, argv: argv)
    }

    /// Every patched fluxforge command line, for the flag cross-check.
    static func invocations(objects: [KubernetesObject]) throws -> [Invocation] {
        try all().flatMap { patch -> [Invocation] in
            guard let target = patch.target(in: objects) else { return [] }
            return patch.containerPairs(in: target).compactMap { pair in pair.base.flatMap { patch.invocation(patched: pair.patched, base: $0) } }
        }
    }
}

/// Kubernetes' `$(NAME)` references in `env` values, `command` and `args`: expanded from the
/// container's environment, an undefined one left as it is.
enum KubernetesVariables {
    /// The names `text` refers to, in order.
    static func references(in text: String) -> [String] {
        text.matches(of: /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/).map { String($0.1) }
    }

    /// `text` with each reference `values` knows replaced by its value.
    static func expand(_ text: String, _ values: [String: String]) -> String {
        references(in: text).reduce(text) { text, name in
            values[name].map { text.replacingOccurrences(of: "$(\(name))", with: $0) } ?? text
        }
    }

    /// The environment `entries` give a container, as Kubernetes builds it: a `value` expanded
    /// from the entries before it, a `secretKeyRef` from `secrets` by key; `overrides` win (the
    /// downward API's pod name, addresses a test stands in for DNS names).
    static func resolve(_ entries: [YAMLNode], secrets: [String: String], overrides: [String: String] = [:]) -> [String: String] {
        var environment: [String: String] = [:]
        for entry in entries {
            guard let name = entry["name"].string else { continue }
            if let value = overrides[name] {
                environment[name] = value
            } else if let value = entry["value"].string {
                environment[name] = expand(value, environment)
            } else if let key = entry["valueFrom"]["secretKeyRef"]["key"].string, let value = secrets[key] {
                environment[name] = value
            }
        }
        return environment
    }

    /// Sample values for every key of the example Secrets: lower-case hex, as deploy/README.md
    /// asks of the real ones (they go into URLs unescaped), distinct per key.
    static let sampleSecrets: [String: String] = [
        "admin-token": "a0d1e2f3a4b5c6d7", "shard-password": "5a7d1e0c9b", "router-password": "0be4f71c2d",
        "replication-password": "7c3e9a10f4", "cluster-admin-password": "e1d2c3b4a5",
        "sentinel-monitor-password": "9f8e7d6c5b", "sentinel-password": "3c4d5e6f70",
    ]
}

extension YAMLNode {
    /// The value in one canonical text (mapping keys sorted, strings quoted), to compare two
    /// subtrees for equality whatever types the parser built them from.
    var canonical: String {
        if let string { return "\"\(string)\"" }
        if value is [Any] { return "[" + list.map(\.canonical).joined(separator: ",") + "]" }
        if value is [AnyHashable: Any] {
            return "{" + map.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.canonical)" }.joined(separator: ",") + "}"
        }
        return value.map { "\($0)" } ?? "null"
    }
}
