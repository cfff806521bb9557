/// One Kubernetes object of deploy/k8s, with accessors for the parts the tests compare.
struct KubernetesObject {
    /// Path relative to deploy/.
    let file: String
    let node: YAMLNode

    var kind: String { node["kind"].string ?? "" }
    var name: String { node["metadata"]["name"].string ?? "" }
    var label: String { "\(file) \(kind)/\(name)" }
    var isWorkload: Bool { ["Deployment", "StatefulSet", "DaemonSet"].contains(kind) }

    var podSpec: YAMLNode { node["spec"]["template"]["spec"] }
    var podLabels: [String: String] { node["spec"]["template"]["metadata"]["labels"].stringMap ?? [:] }
    var containers: [YAMLNode] { podSpec["containers"].list }

    /// Every object in deploy/k8s, in file order. Not the patches (`KubernetesPatch`): they are
    /// fragments of objects here, applied to them, not objects of their own.
    static func all() throws -> [KubernetesObject] {
        try ManifestFile.all(under: "k8s").filter { !$0.path.hasPrefix(KubernetesPatch.directory + "/") }.flatMap { file in
            file.documents.map { KubernetesObject(file: file.path, node: $0) }
        }
    }

    /// Workloads and Jobs: every object with a pod template.
    var hasPodTemplate: Bool { isWorkload || kind == "Job" }

    /// The init containers and the containers of the pod template, in the order they run.
    var allContainers: [YAMLNode] { podSpec["initContainers"].list + containers }

    /// The container's argv: `command` (the image's ENTRYPOINT when absent) then `args`.
    static func argv(_ container: YAMLNode) -> [String] {
        (container["command"].strings ?? []) + (container["args"].strings ?? [])
    }

    func invocation(_ container: YAMLNode) -> Invocation? {
        let source = "\(label) container \(container["name"].string ?? "?")"
        return Invocation(source: source, image: container["image"].string, argv: Self.argv(container))
    }

    /// The fluxforge containers of this workload with their command lines.
    var invocations: [(container: YAMLNode, invocation: Invocation)] {
        containers.compactMap { container in invocation(container).map { (container, $0) } }
    }

    /// A port as probes and Services give it, a number or the name of a container port, as the
    /// number of a port the container declares (nil when it declares no such port).
    static func containerPort(_ port: YAMLNode, in container: YAMLNode) -> Int? {
        let ports = container["ports"].list
        if let number = port.int { return ports.contains { $0["containerPort"].int == number } ? number : nil }
        return ports.first { $0["name"].string == port.string }?["containerPort"].int
    }

    /// The values of the container's `env` entries, by name (`valueFrom` entries included).
    static func environment(_ container: YAMLNode) -> [String: YAMLNode] {
        var result: [String: YAMLNode] = [:]
        for entry in container["env"].list { if let name = entry["name"].string { result[name] = entry } }
        return result
    }
}
