import Foundation
import Testing

/// deploy/k8s: the objects exist, their selectors, ports, probes and variable references line up,
/// and each shard takes a stable identity from its pod.
@Suite("deploy/k8s")
struct KubernetesTests {
    let objects: [KubernetesObject]

    init() throws { objects = try KubernetesObject.all() }

    func object(_ kind: String, _ name: String) -> KubernetesObject? {
        objects.first { $0.kind == kind && $0.name == name }
    }

    var workloads: [KubernetesObject] { objects.filter(\.isWorkload) }

    /// The workload a Service's selector picks (nil unless exactly one).
    func workload(selectedBy service: KubernetesObject) -> KubernetesObject? {
        guard let selector = service.node["spec"]["selector"].stringMap, !selector.isEmpty else { return nil }
        let selected = workloads.filter { workload in selector.allSatisfy { workload.podLabels[$0.key] == $0.value } }
        return selected.count == 1 ? selected[0] : nil
    }

    /// Where a client of `host:port` lands: the workload behind Service `host` and the container
    /// port that Service port forwards to.
    func destination(host: String, port: Int) -> (workload: KubernetesObject, port: Int)? {
        guard let service = object("Service", host), let workload = workload(selectedBy: service),
              let servicePort = service.node["spec"]["ports"].list.first(where: { $0["port"].int == port }) else { return nil }
        let target = servicePort["targetPort"].exists ? servicePort["targetPort"] : servicePort["port"]
        let resolved = workload.containers.lazy.compactMap { KubernetesObject.containerPort(target, in: $0) }.first
        return resolved.map { (workload, $0) }
    }

    @Test func everyDocumentIsANamedObjectWithoutANamespace() {
        #expect(objects.count >= 6)
        for object in objects {
            #expect(object.node["apiVersion"].string?.isEmpty == false, "\(object.label): no apiVersion")
            #expect(!object.kind.isEmpty && !object.name.isEmpty, "\(object.label): no kind or metadata.name")
            #expect(!object.node["metadata"]["namespace"].exists, "\(object.label): `kubectl apply -n` chooses the namespace")
        }
    }

    @Test func theClustersObjectsArePresent() throws {
        let router = try #require(object("Deployment", "fluxforge-router"))
        #expect((router.node["spec"]["replicas"].int ?? 1) >= 2, "one router is a single point of failure")
        #expect(object("Service", "fluxforge-router") != nil)
        let shards = try #require(object("StatefulSet", "fluxforge-shard"))
        #expect(shards.node["spec"]["replicas"].int == 3)
        let headless = try #require(object("Service", shards.node["spec"]["serviceName"].string ?? ""), "shard serviceName")
        #expect(headless.node["spec"]["clusterIP"].string == "None", "the shards' governing Service must be headless")
        #expect(object("StatefulSet", "fluxforge-redis") != nil && object("Service", "fluxforge-redis") != nil)
        for set in objects where set.kind == "StatefulSet" {
            #expect(object("Service", set.node["spec"]["serviceName"].string ?? "") != nil, "\(set.label): serviceName names no Service")
        }
    }

    @Test func selectorsMatchThePodTemplatesLabels() {
        for workload in workloads {
            let selector = workload.node["spec"]["selector"]["matchLabels"].stringMap ?? [:]
            #expect(!selector.isEmpty, "\(workload.label): no matchLabels")
            #expect(selector.allSatisfy { workload.podLabels[$0.key] == $0.value }, "\(workload.label): \(selector) vs \(workload.podLabels)")
        }
        for service in objects where service.kind == "Service" {
            #expect(workload(selectedBy: service) != nil, "\(service.label) must select the pods of exactly one workload")
        }
    }

    @Test func servicePortsForwardToDeclaredContainerPorts() {
        for service in objects where service.kind == "Service" {
            for port in service.node["spec"]["ports"].list {
                let number = port["port"].int ?? 0
                #expect(destination(host: service.name, port: number) != nil, "\(service.label) port \(number) reaches no container port")
            }
        }
    }

    @Test func containerPortsAreThePortsTheFlagsListenOn() throws {
        for workload in workloads {
            for (container, invocation) in workload.invocations where ["shard", "router"].contains(invocation.subcommand) {
                for (flag, name) in [("--api-port", "api"), ("--agent-port", "agent")] {
                    let port = try #require(invocation.value(of: flag).flatMap { Int($0) }, "\(invocation)")
                    let declared = KubernetesObject.containerPort(YAMLNode(value: name), in: container)
                    #expect(declared == port, "\(workload.label): port \(name) is \(declared.map(String.init) ?? "missing"), \(flag) \(port)")
                }
                #expect(invocation.value(of: "--api-host") == "0.0.0.0" && invocation.value(of: "--agent-host") == "0.0.0.0",
                        "\(workload.label) must listen on the pod's address, not loopback")
            }
        }
    }

    /// On the API port, or on a shard's plain ops port when its API takes mutual TLS (probes hold
    /// no client certificate).
    @Test func probesAskReadyzAndHealthzOnAPortThatAnswersThem() throws {
        for workload in workloads {
            for (container, invocation) in workload.invocations where ["shard", "router"].contains(invocation.subcommand) {
                let probed = invocation.flags.contains("--api-mtls") ? "--ops-port" : "--api-port"
                let apiPort = try #require(invocation.value(of: probed).flatMap { Int($0) }, "\(workload.label) has no \(probed)")
                for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
                    let get = container[probe]["httpGet"]
                    #expect(get["path"].string == path, "\(workload.label) \(probe) asks \(get["path"].string ?? "nothing")")
                    #expect(KubernetesObject.containerPort(get["port"], in: container) == apiPort, "\(workload.label) \(probe) port")
                }
            }
        }
    }

    /// Init containers and Jobs too: Kubernetes expands `$(VAR)` in theirs as well (the Redis
    /// manifests' shell scripts use backquotes for command substitution for that reason).
    @Test func argvIsStringsAndEveryVariableItUsesIsDefined() throws {
        let reference = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/
        for workload in objects where workload.hasPodTemplate {
            for container in workload.allContainers {
                for field in ["command", "args"] where container[field].exists {
                    #expect(container[field].strings != nil, "\(workload.label) \(field) has a non-string element (quote it)")
                }
                let defined = KubernetesObject.environment(container)
                for argument in KubernetesObject.argv(container) {
                    for match in argument.matches(of: reference) where defined[String(match.1)] == nil {
                        // Kubernetes passes an undefined $(NAME) on literally: a shard named "$(POD_NAME)".
                        Issue.record("\(workload.label): \(argument) uses \(match.1), which env does not define")
                    }
                }
            }
        }
    }

    /// The variable behind `$(NAME)` in `value` must come from the pod field `fieldPath`.
    func isDownward(_ value: String?, _ fieldPath: String, in container: YAMLNode) -> Bool {
        guard let value, value.hasPrefix("$("), value.hasSuffix(")") else { return false }
        let entry = KubernetesObject.environment(container)[String(value.dropFirst(2).dropLast())]
        return entry?["valueFrom"]["fieldRef"]["fieldPath"].string == fieldPath
    }

    @Test func eachShardTakesItsIDFromThePodNameAndAdvertisesThePodIP() throws {
        let shards = try #require(object("StatefulSet", "fluxforge-shard"))
        let (container, invocation) = try #require(shards.invocations.first { $0.invocation.subcommand == "shard" })
        #expect(isDownward(invocation.value(of: "--id"), "metadata.name", in: container), "--id must be the stable pod name")
        #expect(isDownward(invocation.value(of: "--advertise-host"), "status.podIP", in: container), "--advertise-host")
        let grace = shards.podSpec["terminationGracePeriodSeconds"].int ?? 30
        #expect(grace >= 10, "\(grace) s may kill a shard before it has released its leases and left")
    }

    /// The StatefulSets whose pods hold FluxForge's data: `redis-server` run as a server, not as
    /// a sentinel (redis.yaml, the cluster's nodes, the Sentinel deployment's data nodes).
    var redisDataNodes: [KubernetesObject] {
        objects.filter { set in
            guard set.kind == "StatefulSet", let argv = set.containers.first.map(KubernetesObject.argv) else { return false }
            return argv.first == "redis-server" && !argv.contains("--sentinel")
        }
    }

    @Test func everyRedisDataNodeAppendsToAVolumeClaimAndRefusesWritesWhenFull() throws {
        #expect(Set(redisDataNodes.map(\.name)) == ["fluxforge-redis", "fluxforge-redis-cluster", "fluxforge-redis-data"])
        for redis in redisDataNodes {
            let container = try #require(redis.containers.first)
            let argv = KubernetesObject.argv(container)
            func value(_ flag: String) -> String? { argv.firstIndex(of: flag).flatMap { argv.dropFirst($0 + 1).first } }
            #expect(value("--appendonly") == "yes", "\(redis.label) runs without --appendonly yes: \(argv)")
            let directory = value("--dir") ?? "/data"
            let mount = container["volumeMounts"].list.first { $0["mountPath"].string == directory }
            let claims = redis.node["spec"]["volumeClaimTemplates"].list.compactMap { $0["metadata"]["name"].string }
            #expect(mount?["name"].string.map { claims.contains($0) } == true, "\(redis.label): \(directory) is not on a volume claim: \(claims)")
            // Full means refuse writes (503 store_full), never evict a lease or a task record.
            #expect(value("--maxmemory") != nil, "\(redis.label): without a limit Redis grows until the kernel kills it")
            #expect(value("--maxmemory-policy") == "noeviction", "\(redis.label): an evicting Redis can drop a lease or a task record")
        }
    }

    @Test func everySecretReferenceIsShownInTheExampleAsAPlaceholder() throws {
        let example = objects.filter { $0.file == "k8s/secret.example.yaml" && $0.kind == "Secret" }
        var shown: [String: [String: String]] = [:]
        for secret in example { shown[secret.name] = secret.node["stringData"].stringMap ?? [:] }
        for value in shown.values.flatMap(\.values) {
            #expect(value.hasPrefix("REPLACE-ME"), "the example must not carry a usable token: \(value)")
        }
        var references = 0
        for workload in objects where workload.hasPodTemplate {
            for entry in workload.allContainers.flatMap({ $0["env"].list }) where entry["valueFrom"]["secretKeyRef"].exists {
                let reference = entry["valueFrom"]["secretKeyRef"]
                let (name, key) = (reference["name"].string ?? "", reference["key"].string ?? "")
                #expect(shown[name]?[key] != nil, "\(workload.label) reads secret \(name) key \(key), not in the example")
                references += 1
            }
        }
        #expect(references >= 3, "router, shards and agents read their tokens from Secrets")
    }

    @Test func agentSessionsAreMutualTLSWithCertificatesFromSecretsShownInTheExample() throws {
        let example = Set(objects.filter { $0.file == "k8s/secret.example.yaml" && $0.kind == "Secret" }.map(\.name))
        for workload in workloads {
            // Every Secret volume names a Secret of the example, and every file a flag names is mounted.
            let volumes = workload.podSpec["volumes"].list
            for volume in volumes where volume["secret"].exists {
                let name = volume["secret"]["secretName"].string ?? ""
                #expect(example.contains(name), "\(workload.label) mounts secret \(name), not in the example")
            }
            for (container, invocation) in workload.invocations where ["shard", "router", "agent"].contains(invocation.subcommand) {
                #expect(!invocation.flags.contains("--insecure-dev"), "\(workload.label) runs --insecure-dev")
                let mounts = container["volumeMounts"].list.compactMap { $0["mountPath"].string }
                for flag in ["--agent-tls-cert", "--agent-tls-key", "--agent-client-ca", "--ca", "--state-dir"] {
                    guard let path = invocation.value(of: flag) else { continue }
                    #expect(mounts.contains { path.hasPrefix($0 + "/") || path == $0 }, "\(workload.label): \(flag) \(path) is on no volume")
                }
                switch invocation.subcommand {
                case "agent":
                    #expect(invocation.value(of: "--url")?.hasPrefix("wss://") == true && invocation.value(of: "--join")?.hasPrefix("https://") == true)
                    #expect(KubernetesObject.environment(container)["FLUXFORGE_AGENT_TOKEN"] == nil, "agents need no shared token")
                case "shard":
                    #expect(invocation.value(of: "--agent-tls-cert") != nil, "\(workload.label) serves agents without TLS")
                    #expect(invocation.flags.contains("--api-mtls"), "\(workload.label) takes the router's calls in plain HTTP")
                default:
                    #expect(invocation.value(of: "--agent-tls-cert") != nil, "\(workload.label) serves agents without TLS")
                    #expect(invocation.value(of: "--tls-cert") != nil, "\(workload.label) serves the tenant API in plain HTTP")
                }
            }
        }
    }

    @Test func redisAndAgentURLsReachTheRightContainerPorts() throws {
        var checked = (redis: 0, agents: 0)
        for workload in workloads {
            for (container, invocation) in workload.invocations {
                if let redisURL = KubernetesObject.environment(container)["FLUXFORGE_REDIS_URL"]?["value"].string {
                    let url = try #require(URLComponents(string: redisURL))
                    let target = destination(host: url.host ?? "", port: url.port ?? 6379)
                    #expect(target?.workload.name == "fluxforge-redis" && target?.port == 6379, "\(invocation.source): \(redisURL)")
                    checked.redis += 1
                }
                guard invocation.subcommand == "agent" else { continue }
                let url = try #require(invocation.value(of: "--url").flatMap(URLComponents.init(string:)))
                let target = try #require(destination(host: url.host ?? "", port: url.port ?? 0), "\(invocation)")
                let routerAgentPort = target.workload.invocations.first?.invocation.value(of: "--agent-port")
                #expect(target.workload.name == "fluxforge-router" && routerAgentPort == String(target.port), "\(invocation)")
                #expect(url.path == "/v1/agent/connect", "\(invocation)")
                checked.agents += 1
            }
        }
        #expect(checked.redis >= 2 && checked.agents >= 1, "router and shards name Redis, the demo agents the router: \(checked)")
    }

    /// The workloads and Jobs a NetworkPolicy `podSelector` (or an ingress `from` entry) picks.
    func workloads(selectedBy selector: YAMLNode) -> [KubernetesObject] {
        let labels = selector["matchLabels"].stringMap ?? [:]
        return objects.filter { object in object.hasPodTemplate && labels.allSatisfy { object.podLabels[$0.key] == $0.value } }
    }

    /// The NetworkPolicy that applies to `workload` (exactly one expected).
    func policy(for workload: KubernetesObject) -> KubernetesObject? {
        let policies = objects.filter { $0.kind == "NetworkPolicy" && workloads(selectedBy: $0.node["spec"]["podSelector"]).contains { $0.name == workload.name } }
        return policies.count == 1 ? policies[0] : nil
    }

    /// (peer workload names, ports) of each ingress rule of a policy.
    func ingress(_ policy: KubernetesObject) -> [(peers: Set<String>?, ports: Set<Int>)] {
        policy.node["spec"]["ingress"].list.map { rule in
            let from = rule["from"].list
            let peers = from.isEmpty ? nil : Set(from.flatMap { workloads(selectedBy: $0["podSelector"]).map(\.name) })
            return (peers, Set(rule["ports"].list.compactMap { $0["port"].int }))
        }
    }

    @Test func networkPoliciesLetOnlyRoutersReachShardsAndOnlyFluxForgeReachRedis() throws {
        for workload in workloads {
            let own = try #require(policy(for: workload), "\(workload.label) has no NetworkPolicy of its own")
            #expect(own.node["spec"]["policyTypes"].strings?.contains("Ingress") == true, "\(own.label)")
        }
        let redis = try #require(object("StatefulSet", "fluxforge-redis"))
        let redisRules = ingress(try #require(policy(for: redis)))
        #expect(redisRules.count == 1 && redisRules[0].peers == ["fluxforge-router", "fluxforge-shard"] && redisRules[0].ports == [6379], "\(redisRules)")

        let shard = try #require(object("StatefulSet", "fluxforge-shard"))
        let shardRules = ingress(try #require(policy(for: shard)))
        let shardFlags = try #require(shard.invocations.first?.invocation)
        let shardPorts = Set(["--api-port", "--agent-port"].compactMap { shardFlags.value(of: $0).flatMap(Int.init) })
        #expect(shardRules.count == 1 && shardRules[0].peers == ["fluxforge-router"] && shardRules[0].ports == shardPorts, "\(shardRules)")

        let router = try #require(object("Deployment", "fluxforge-router"))
        let routerFlags = try #require(router.invocations.first?.invocation)
        let routerPorts = Set(["--api-port", "--agent-port"].compactMap { routerFlags.value(of: $0).flatMap(Int.init) })
        let routerRules = ingress(try #require(policy(for: router)))
        #expect(routerRules.count == 1 && routerRules[0].peers == nil && routerRules[0].ports == routerPorts, "the router is public on its two ports only")

        for agent in workloads where agent.invocations.contains(where: { $0.invocation.subcommand == "agent" }) {
            #expect(ingress(try #require(policy(for: agent))).isEmpty, "\(agent.label) accepts connections")
        }
    }

    /// The ports `source`'s pods may open on `destination`'s pods, by `destination`'s policy.
    func ports(from source: String, to destination: KubernetesObject) -> Set<Int> {
        guard let own = policy(for: destination) else { return [] }
        return ingress(own).filter { $0.peers?.contains(source) ?? true }.reduce(into: Set<Int>()) { $0.formUnion($1.ports) }
    }

    /// redis-cluster.yaml and redis-sentinel.yaml: FluxForge reaches the nodes (6379) and the
    /// sentinels (26379); the cluster's nodes reach each other on 6379 (replication) and on the
    /// cluster bus (16379), which has no password: nothing else may reach it.
    @Test func networkPoliciesLetFluxForgeReachTheRedisClusterAndTheSentinelsAndNobodyTheBus() throws {
        let fluxforge = ["fluxforge-router", "fluxforge-shard"]
        let cluster = try #require(object("StatefulSet", "fluxforge-redis-cluster"))
        for peer in fluxforge + ["fluxforge-redis-cluster-create"] {
            #expect(ports(from: peer, to: cluster) == [6379], "\(peer) → cluster nodes: \(ports(from: peer, to: cluster))")
        }
        #expect(ports(from: cluster.name, to: cluster) == [6379, 16379], "node → node: \(ports(from: cluster.name, to: cluster))")
        for other in objects where other.hasPodTemplate && other.name != cluster.name {
            #expect(!ports(from: other.name, to: cluster).contains(16379), "\(other.label) reaches the cluster bus")
        }

        let data = try #require(object("StatefulSet", "fluxforge-redis-data"))
        let sentinels = try #require(object("StatefulSet", "fluxforge-redis-sentinel"))
        for peer in fluxforge {
            #expect(ports(from: peer, to: data) == [6379], "\(peer) → data nodes")
            #expect(ports(from: peer, to: sentinels) == [26379], "\(peer) → sentinels")
        }
        // Replication, monitoring and promotion; the data nodes' init containers ask the sentinels.
        #expect(ports(from: data.name, to: data) == [6379] && ports(from: sentinels.name, to: data) == [6379])
        #expect(ports(from: sentinels.name, to: sentinels) == [26379] && ports(from: data.name, to: sentinels) == [26379])
        for agent in workloads where agent.invocations.contains(where: { $0.invocation.subcommand == "agent" }) {
            for redis in [cluster, data, sentinels] {
                #expect(ports(from: agent.name, to: redis).isEmpty, "\(agent.label) reaches \(redis.label)")
            }
        }
    }

    @Test func agentPodsShareNothingWithTheCommandsTheyRun() throws {
        let agents = workloads.filter { $0.invocations.contains { $0.invocation.subcommand == "agent" } }
        #expect(!agents.isEmpty)
        for agent in agents {
            #expect(agent.podSpec["shareProcessNamespace"].bool != true, "\(agent.label): a task could see and signal the agent")
            #expect(agent.podSpec["automountServiceAccountToken"].bool == false, "\(agent.label): tasks could read a Kubernetes API token")
            for container in agent.containers {
                #expect(KubernetesObject.argv(container).first == "tini", "\(agent.label): tini must be PID 1 to reap orphans")
                #expect(container["securityContext"]["allowPrivilegeEscalation"].bool == false)
            }
        }
    }
}
