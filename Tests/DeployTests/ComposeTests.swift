import Testing

/// deploy/compose.yaml: the services exist, talk to each other at the right names and ports, keep
/// Redis durable and take secrets from the environment.
@Suite("deploy/compose.yaml")
struct ComposeTests {
    let services: [String: YAMLNode]
    let volumes: [String: YAMLNode]

    init() throws {
        let file = try ManifestFile.load("compose.yaml")
        try #require(file.documents.count == 1)
        services = file.documents[0]["services"].map
        volumes = file.documents[0]["volumes"].map
    }

    /// The fluxforge command line of a service (nil for services of other images).
    func invocation(_ name: String) -> Invocation? {
        guard let service = services[name], let argv = service["command"].strings else { return nil }
        return Invocation(source: "compose.yaml \(name)", image: service["image"].string, argv: argv)
    }

    func names(running subcommand: String) -> [String] {
        services.keys.filter { invocation($0)?.subcommand == subcommand }.sorted()
    }

    @Test func hasRedisRouterThreeShardsAndAgentsInTwoZones() {
        #expect(Set(services.keys).isSuperset(of: ["redis", "router", "shard-1", "shard-2", "shard-3"]))
        #expect(names(running: "router") == ["router"])
        #expect(names(running: "shard") == ["shard-1", "shard-2", "shard-3"])
        let agents = names(running: "agent").compactMap(invocation)
        #expect(agents.count >= 3)
        #expect(Set(agents.compactMap { $0.value(of: "--zone") }).count >= 2, "agents in one zone only")
    }

    @Test func redisAppendsToAPersistentVolume() throws {
        let redis = try #require(services["redis"])
        let command = redis["command"].strings ?? []
        let flag = try #require(command.firstIndex(of: "--appendonly"), "redis-server runs without --appendonly: \(command)")
        #expect(command.dropFirst(flag + 1).first == "yes")
        let dataDirectory = command.firstIndex(of: "--dir").map { command[$0 + 1] } ?? "/data"
        let mounts = redis["volumes"].list.compactMap(\.string)
        let volume = mounts.first { $0.hasSuffix(":\(dataDirectory)") }?.split(separator: ":").first.map(String.init)
        #expect(volume.map { volumes.keys.contains($0) } == true, "no named volume on \(dataDirectory): \(mounts)")
    }

    @Test func shardsHaveDistinctIDsAndAdvertiseTheirServiceName() throws {
        let shards = names(running: "shard")
        var ids: Set<String> = []
        for name in shards {
            let shard = try #require(invocation(name))
            let id = try #require(shard.value(of: "--id"), "\(name) has no --id")
            ids.insert(id)
            #expect(shard.value(of: "--advertise-host") == name, "the router reaches \(name) at the name it advertises")
            #expect(shard.value(of: "--api-host") == "0.0.0.0" && shard.value(of: "--agent-host") == "0.0.0.0",
                    "\(name) must listen beyond loopback for the router to reach it")
        }
        #expect(ids.count == shards.count, "shard ids repeat: \(shards.map { invocation($0)?.value(of: "--id") ?? "" })")
    }

    @Test func agentsDialTheRoutersAgentPort() throws {
        let router = try #require(invocation("router"))
        let agentPort = try #require(router.value(of: "--agent-port"))
        #expect(router.value(of: "--agent-host") == "0.0.0.0")
        for name in names(running: "agent") {
            let url = invocation(name)?.value(of: "--url")
            #expect(url == "wss://router:\(agentPort)/v1/agent/connect", "\(name) dials \(url ?? "nothing")")
        }
    }

    @Test func agentSessionsAreMutualTLSOnEveryHop() throws {
        for name in names(running: "router") + names(running: "shard") {
            let process = try #require(invocation(name))
            #expect(!process.flags.contains("--insecure-dev"), "\(name) runs --insecure-dev")
            let files = ["--agent-tls-cert", "--agent-tls-key", "--agent-client-ca"].compactMap { process.value(of: $0) }
            #expect(files.count == 3 && files.allSatisfy { $0.hasPrefix("/etc/fluxforge/ca/") }, "\(name): \(files)")
        }
        for name in names(running: "shard") {
            #expect(try #require(invocation(name)).flags.contains("--api-mtls"), "\(name) takes the router's calls in plain HTTP")
        }
        for name in names(running: "router") {
            #expect(try #require(invocation(name)).value(of: "--tls-cert") != nil, "\(name) serves the tenant API in plain HTTP")
        }
        for name in names(running: "agent") {
            let process = try #require(invocation(name))
            #expect(process.value(of: "--join")?.hasPrefix("https://") == true && process.value(of: "--ca-hash") != nil
                && process.value(of: "--state-dir") != nil, "\(name)")
        }
    }

    @Test func routerPublishesItsAPIAndAgentPorts() throws {
        let router = try #require(invocation("router"))
        #expect(router.value(of: "--api-port") == "7300" && router.value(of: "--agent-port") == "7301")
        #expect(router.value(of: "--api-host") == "0.0.0.0")
        // Short syntax `[host_ip:]published:target[/protocol]`: keep `published:target`.
        let published = Set((services["router"]?["ports"].list ?? []).compactMap(\.string).map { entry in
            entry.split(separator: "/")[0].split(separator: ":").suffix(2).joined(separator: ":")
        })
        #expect(published.isSuperset(of: ["7300:7300", "7301:7301"]), "router publishes \(published)")
    }

    /// On the API port, or on a shard's plain ops port when its API takes mutual TLS.
    @Test func routerAndShardsAreHealthcheckedOnAPortThatAnswersPlainHTTP() throws {
        for name in names(running: "router") + names(running: "shard") {
            let process = try #require(invocation(name))
            let apiPort = try #require(process.value(of: process.flags.contains("--api-mtls") ? "--ops-port" : "--api-port"))
            let test = services[name]?["healthcheck"]["test"].strings ?? []
            let probed = test.contains { $0.hasSuffix(":\(apiPort)/readyz") || $0.hasSuffix(":\(apiPort)/healthz") }
            #expect(probed, "\(name) healthcheck \(test) does not probe /readyz or /healthz on port \(apiPort)")
        }
    }

    @Test func secretsComeFromTheEnvironmentAndRedisURLNamesTheRedisService() {
        for name in names(running: "router") + names(running: "shard") {
            let environment = services[name]?["environment"].map ?? [:]
            #expect(environment["FLUXFORGE_ADMIN_TOKEN"]?.string?.hasPrefix("${FLUXFORGE_ADMIN_TOKEN:?") == true,
                    "\(name): the admin token must come from the environment, required")
            // Each role logs in as its own ACL user, its password from the environment.
            let user = name == "router" ? "fluxforge-router" : "fluxforge-shard"
            let url = environment["FLUXFORGE_REDIS_URL"]?.string ?? ""
            #expect(url.hasPrefix("redis://\(user):${FLUXFORGE_REDIS_") && url.hasSuffix("}@redis:6379/0"), "\(name): \(url)")
        }
        for name in names(running: "agent") {
            let token = services[name]?["environment"]["FLUXFORGE_JOIN_TOKEN"].string
            #expect(token?.hasPrefix("${FLUXFORGE_JOIN_TOKEN") == true, "\(name): join token \(token ?? "missing")")
        }
    }

    @Test func dependenciesNameServicesAndWaitForRedisHealth() {
        for (name, service) in services {
            for (dependency, condition) in service["depends_on"].map {
                #expect(services[dependency] != nil, "\(name) depends on unknown service \(dependency)")
                if condition["condition"].string == "service_healthy" {
                    #expect(services[dependency]?["healthcheck"].exists == true, "\(name) waits for \(dependency)'s health, which has no check")
                }
            }
        }
        for name in names(running: "router") + names(running: "shard") {
            #expect(services[name]?["depends_on"]["redis"]["condition"].string == "service_healthy", "\(name)")
        }
    }
}
