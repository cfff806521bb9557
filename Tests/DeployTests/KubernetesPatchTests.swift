import FluxRedis
import Testing

/// deploy/k8s/patches: the strategic-merge patches that point shards and routers at
/// redis-cluster.yaml or redis-sentinel.yaml. Each changes only what it means to (the Redis URL,
/// `--redis-ack replica`), its URL parses as FluxRedis parses it, names the role's own ACL user,
/// and reaches pods that the Redis manifests define, on ports their Services forward.
@Suite("deploy/k8s/patches")
struct KubernetesPatchTests {
    let objects: [KubernetesObject]
    let patches: [KubernetesPatch]

    init() throws {
        objects = try KubernetesObject.all()
        patches = try KubernetesPatch.all()
    }

    /// The flags a patch adds after the workload's own args.
    static let addedArguments = ["--redis-ack", "replica"]

    func object(_ kind: String, _ name: String) -> KubernetesObject? {
        objects.first { $0.kind == kind && $0.name == name }
    }

    /// Each patched container with its workload's container and the URL the patch gives it,
    /// `$(VAR)`s filled with the sample secrets; nil fields fail the tests that need them.
    struct Patched {
        let patch: KubernetesPatch
        let target: KubernetesObject
        let container: YAMLNode
        let base: YAMLNode
        var label: String { patch.label }
        var environment: [YAMLNode] { KubernetesPatch.environment(container).entries }
        var redisURL: String? {
            KubernetesVariables.resolve(environment, secrets: KubernetesVariables.sampleSecrets)["FLUXFORGE_REDIS_URL"]
        }
        var baseRedisURL: String? {
            KubernetesVariables.resolve(base["env"].list, secrets: KubernetesVariables.sampleSecrets)["FLUXFORGE_REDIS_URL"]
        }
        var isSentinel: Bool { patch.file.contains("sentinel") }
    }

    func patched() throws -> [Patched] {
        try patches.flatMap { patch in
            let target = try #require(patch.target(in: objects), "\(patch.label) patches no object of deploy/k8s")
            return try patch.containerPairs(in: target).map { pair in
                let base = try #require(pair.base, "\(patch.label): \(target.label) has no container \(pair.patched["name"].string ?? "?")")
                return Patched(patch: patch, target: target, container: pair.patched, base: base)
            }
        }
    }

    @Test func shardsAndRoutersArePatchedForBothRedisDeployments() throws {
        let expected: Set = [
            "k8s/patches/redis-cluster-shard.yaml StatefulSet/fluxforge-shard", "k8s/patches/redis-cluster-router.yaml Deployment/fluxforge-router",
            "k8s/patches/redis-sentinel-shard.yaml StatefulSet/fluxforge-shard", "k8s/patches/redis-sentinel-router.yaml Deployment/fluxforge-router",
        ]
        #expect(Set(patches.map(\.label)) == expected)
        for patch in patches {
            #expect(!patch.node["metadata"]["namespace"].exists, "\(patch.label): the namespace is chosen by kubectl -n")
            #expect(patch.target(in: objects)?.isWorkload == true, "\(patch.label) names no workload of deploy/k8s")
            #expect(!patch.containers.isEmpty, "\(patch.label) patches no container")
        }
        for entry in try patched() {
            // Anything else in a container patch would drift from the workload unnoticed.
            let keys = Set(entry.container.map.keys)
            #expect(keys.isSubset(of: ["name", "args", "env"]), "\(entry.label) also patches \(keys.subtracting(["name", "args", "env"]))")
        }
    }

    @Test func argsAreTheWorkloadsOwnFollowedByTheReplicaAck() throws {
        for entry in try patched() {
            let args = try #require(entry.container["args"].strings, "\(entry.label): args must be all strings")
            let own = entry.base["args"].strings ?? []
            #expect(args == own + Self.addedArguments, "\(entry.label): args are not \(entry.target.label)'s plus \(Self.addedArguments)")
        }
    }

    /// The list replaces the workload's whole (Kubernetes expands `$(VAR)` only from variables
    /// defined earlier, and a merge may put an added variable anywhere), so it must equal it
    /// but for the Redis URL and, for Sentinel, the sentinels' password added just before it.
    @Test func envIsTheWorkloadsOwnWithTheRedisURLChanged() throws {
        for entry in try patched() {
            let (entries, replacesList) = KubernetesPatch.environment(entry.container)
            #expect(replacesList, "\(entry.label): env must open with `$patch: replace`")
            var expected = entry.base["env"].list
            let url = try #require(expected.firstIndex { $0["name"].string == "FLUXFORGE_REDIS_URL" }, "\(entry.target.label) has no FLUXFORGE_REDIS_URL")
            if entry.isSentinel {
                let password: [String: Any] = [
                    "name": "FLUXFORGE_REDIS_SENTINEL_PASSWORD",
                    "valueFrom": ["secretKeyRef": ["name": "fluxforge-redis", "key": "sentinel-password"]],
                ]
                expected.insert(YAMLNode(value: password), at: url)
            }
            #expect(entries.map { $0["name"].string ?? "?" } == expected.map { $0["name"].string ?? "?" }, "\(entry.label): env names or order")
            for (patched, own) in zip(entries, expected) where patched["name"].string != "FLUXFORGE_REDIS_URL" {
                #expect(patched.canonical == own.canonical, "\(entry.label): \(patched["name"].string ?? "?") differs from \(entry.target.label)'s")
            }
        }
    }

    @Test func everyVariableIsDefinedBeforeUseAndEverySecretIsInTheExample() throws {
        let example = objects.filter { $0.file == "k8s/secret.example.yaml" && $0.kind == "Secret" }
        var shown: [String: Set<String>] = [:]
        for secret in example { shown[secret.name] = Set((secret.node["stringData"].stringMap ?? [:]).keys) }
        for entry in try patched() {
            var defined: Set<String> = []
            for variable in entry.environment {
                let name = variable["name"].string ?? ""
                for reference in KubernetesVariables.references(in: variable["value"].string ?? "") where !defined.contains(reference) {
                    Issue.record("\(entry.label): \(name) uses $(\(reference)) before it is defined: Kubernetes would pass it on literally")
                }
                let secret = variable["valueFrom"]["secretKeyRef"]
                if secret.exists {
                    let (secretName, key) = (secret["name"].string ?? "", secret["key"].string ?? "")
                    #expect(shown[secretName]?.contains(key) == true, "\(entry.label) reads secret \(secretName) key \(key), not in the example")
                }
                defined.insert(name)
            }
            for argument in entry.container["args"].strings ?? [] {
                for reference in KubernetesVariables.references(in: argument) where !defined.contains(reference) {
                    Issue.record("\(entry.label): \(argument) uses $(\(reference)), which env does not define")
                }
            }
        }
    }

    @Test func redisURLsParseAndLogInAsTheRolesOwnUser() throws {
        for entry in try patched() {
            let url = try #require(entry.redisURL, "\(entry.label) sets no FLUXFORGE_REDIS_URL")
            #expect(KubernetesVariables.references(in: url).isEmpty, "\(entry.label): \(url) keeps an unresolved $(VAR)")
            let own = try RedisConfiguration(url: try #require(entry.baseRedisURL))
            let role = try #require(own.username, "\(entry.target.label) logs in as no ACL user")
            let configurations: [RedisConfiguration]
            if entry.isSentinel {
                #expect(url.hasPrefix("redis-sentinel://"), "\(entry.label): \(url)")
                let configuration = try RedisConfiguration(url: url)
                let sentinel = try #require(configuration.sentinel)
                #expect(sentinel.password == KubernetesVariables.sampleSecrets["sentinel-password"], "\(entry.label): ?sentinel-password= is not the Secret's sentinel-password")
                #expect(configuration.database == 0)
                configurations = [configuration]
            } else {
                #expect(url.hasPrefix("redis-cluster://"), "\(entry.label): \(url)")
                configurations = try #require(try RedisBackends.clusterSeeds(url), "\(entry.label): not a cluster URL")
            }
            for configuration in configurations {
                #expect(configuration.username == role && configuration.password == own.password,
                        "\(entry.label) logs in as \(configuration.username ?? "nobody"), not as \(role) with its password")
                #expect(!configuration.tls, "\(entry.label): the Redis manifests serve no TLS")
            }
        }
    }

    /// `pod.service` (a StatefulSet pod's DNS name in the namespace) and `port`: the StatefulSet
    /// whose pod it is, when the Service is its headless governing one and forwards `port` to a
    /// port of its container.
    func statefulSet(serving host: String, port: Int) -> KubernetesObject? {
        let labels = host.split(separator: ".")
        guard labels.count == 2, let dash = labels[0].lastIndex(of: "-"), let ordinal = Int(labels[0][labels[0].index(after: dash)...]) else { return nil }
        let (setName, serviceName) = (String(labels[0][..<dash]), String(labels[1]))
        guard let set = object("StatefulSet", setName), set.node["spec"]["serviceName"].string == serviceName,
              ordinal >= 0, ordinal < (set.node["spec"]["replicas"].int ?? 1),
              let service = object("Service", serviceName), service.node["spec"]["clusterIP"].string == "None",
              let servicePort = service.node["spec"]["ports"].list.first(where: { $0["port"].int == port })
        else { return nil }
        let target = servicePort["targetPort"].exists ? servicePort["targetPort"] : servicePort["port"]
        return set.containers.contains { KubernetesObject.containerPort(target, in: $0) != nil } ? set : nil
    }

    @Test func everyHostIsAPodOfTheRedisManifestsAndEveryPodIsListed() throws {
        for entry in try patched() {
            let url = try #require(entry.redisURL)
            let addresses: [(host: String, port: Int)]
            if entry.isSentinel {
                addresses = try #require(try RedisConfiguration(url: url).sentinel).sentinels.map { (host: $0.host, port: $0.port) }
            } else {
                addresses = try #require(try RedisBackends.clusterSeeds(url)).map { (host: $0.host, port: $0.port) }
            }
            let sets = addresses.map { statefulSet(serving: $0.host, port: $0.port) }
            for (address, set) in zip(addresses, sets) where set == nil {
                Issue.record("\(entry.label): \(address.host):\(address.port) is no pod of a headless Service of deploy/k8s on that port")
            }
            let expected = entry.isSentinel ? "fluxforge-redis-sentinel" : "fluxforge-redis-cluster"
            let names = Set(sets.compactMap { $0?.name })
            #expect(names == [expected], "\(entry.label) names pods of \(names), not of \(expected)")
            // Every pod a seed (any may be down when the process starts), each once.
            let replicas = object("StatefulSet", expected)?.node["spec"]["replicas"].int ?? 0
            #expect(Set(addresses.map(\.host)).count == addresses.count && addresses.count == replicas,
                    "\(entry.label) lists \(addresses.count) addresses for \(replicas) pods")
        }
    }

    @Test func theSentinelURLAsksForTheMasterTheSentinelsMonitor() throws {
        let sentinels = try #require(object("StatefulSet", "fluxforge-redis-sentinel"))
        let configure = try #require(sentinels.podSpec["initContainers"].list.first)
        let monitored = try #require(KubernetesObject.environment(configure)["MASTER_NAME"]?["value"].string)
        let dataNodes = try #require(object("StatefulSet", "fluxforge-redis-data"))
        let role = try #require(dataNodes.podSpec["initContainers"].list.first)
        #expect(KubernetesObject.environment(role)["MASTER_NAME"]?["value"].string == monitored, "data nodes and sentinels disagree on the master's name")
        for entry in try patched() where entry.isSentinel {
            let configuration = try RedisConfiguration(url: try #require(entry.redisURL))
            #expect(configuration.sentinel?.masterName == monitored, "\(entry.label) asks for \(configuration.sentinel?.masterName ?? "?"), the sentinels monitor \(monitored)")
        }
    }

    @Test func eachKustomizationAppliesItsPatchesToTheManifestsTheyPatch() throws {
        let kustomizations = try KubernetesPatch.kustomizations()
        #expect(kustomizations.count == 2, "one kustomization per Redis deployment: \(kustomizations.map(\.path))")
        var applied: [String] = []
        for kustomization in kustomizations {
            let document = kustomization.documents[0]
            let directory = kustomization.path.split(separator: "/").dropLast().joined(separator: "/")
            func resolved(_ relative: String) -> String {
                var parts = directory.split(separator: "/").map(String.init)
                for part in relative.split(separator: "/") { if part == ".." { parts.removeLast() } else { parts.append(String(part)) } }
                return parts.joined(separator: "/")
            }
            let resources = (document["resources"].strings ?? []).map(resolved)
            let files = try resources.map { try ManifestFile.load($0) }
            let resourceObjects = files.flatMap { file in file.documents.map { KubernetesObject(file: file.path, node: $0) } }
            for path in (document["patches"].list.compactMap { $0["path"].string }).map(resolved) {
                applied.append(path)
                for patch in patches where patch.file == path {
                    #expect(patch.target(in: resourceObjects) != nil, "\(kustomization.path): \(patch.label) patches none of its resources")
                    // The Redis manifest the patch's URL points at is among the resources.
                    let redis = patch.file.contains("sentinel") ? "k8s/redis-sentinel.yaml" : "k8s/redis-cluster.yaml"
                    #expect(resources.contains(redis) && !resources.contains("k8s/redis.yaml"), "\(kustomization.path): \(resources)")
                }
            }
        }
        #expect(applied.sorted() == Set(patches.map(\.file)).sorted(), "every patch in exactly one kustomization: \(applied)")
    }
}
