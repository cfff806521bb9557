import FluxRedis
import FluxTesting
import Foundation
import Testing

/// An ACL user of the Redis manifests and the key of its password in Secret `fluxforge-redis`.
struct RedisUser: Sendable {
    let name: String
    let secretKey: String

    static let shard = RedisUser(name: "fluxforge-shard", secretKey: "shard-password")
    static let router = RedisUser(name: "fluxforge-router", secretKey: "router-password")
    static let replication = RedisUser(name: "fluxforge-replication", secretKey: "replication-password")
    static let clusterAdmin = RedisUser(name: "fluxforge-cluster-admin", secretKey: "cluster-admin-password")
    static let sentinelMonitor = RedisUser(name: "fluxforge-sentinel", secretKey: "sentinel-monitor-password")

    /// 127.0.0.1:`port` logged in as this user with its sample password; test-sized timeouts.
    func configuration(port: Int) -> RedisConfiguration {
        ManifestRedis.configuration(port: port, username: name, password: KubernetesVariables.sampleSecrets[secretKey])
    }
}

/// What the behavioural tests of redis-cluster.yaml and redis-sentinel.yaml share: running a
/// manifest's Redis on loopback (its pods' DNS names stood in for by loopback addresses) and
/// asking it things as one of its users.
enum ManifestRedis {
    static func configuration(port: Int, username: String? = nil, password: String? = nil) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port, username: username, password: password)
        configuration.connectTimeout = .seconds(5)
        configuration.commandTimeout = .seconds(5)
        configuration.reconnectBackoffMaximum = .milliseconds(200)
        return configuration
    }

    /// Sends `command` to 127.0.0.1:`port` as `user` (nil: no `AUTH`) on a connection of its own.
    static func send(_ command: RedisCommand, port: Int, as user: RedisUser?) async throws -> RedisReply {
        try await RedisProcessGroup.command(command, configuration: user?.configuration(port: port) ?? configuration(port: port))
    }

    /// Records an issue unless `command` is refused: `NOPERM` for a user, `NOAUTH` for nobody.
    static func expectRefused(
        _ command: RedisCommand, port: Int, as user: RedisUser?, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let who = user?.name ?? "nobody"
        do {
            let reply = try await send(command, port: port, as: user)
            Issue.record("\(who) may run \(command.name): \(reply)", sourceLocation: sourceLocation)
        } catch let error as RedisError {
            let refusal = user == nil ? "NOAUTH" : "NOPERM"
            #expect(error.message.hasPrefix(refusal), "\(command.name) as \(who): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(command.name) as \(who): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// `<set>-<index>.<service>:<port>`: pod `index` of a StatefulSet by the DNS name its
    /// headless governing Service gives it, as the manifests write their addresses.
    static func podAddress(_ set: KubernetesObject, _ index: Int, port: Int) -> String {
        "\(set.name)-\(index).\(set.node["spec"]["serviceName"].string ?? ""):\(port)"
    }

    /// `text` with every address `addresses` knows replaced by its stand-in.
    static func loopback(_ text: String, _ addresses: [String: String]) -> String {
        // Longest first: no address is then replaced inside a longer one.
        addresses.sorted { $0.key.count > $1.key.count }.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    /// A container's argv after `redis-server`, its `$(VAR)`s filled from its environment with
    /// the sample secrets, and `--dir` moved to `directory`.
    static func serverArguments(_ container: YAMLNode, directory: URL) throws -> [String] {
        let environment = KubernetesVariables.resolve(container["env"].list, secrets: KubernetesVariables.sampleSecrets)
        let argv = KubernetesObject.argv(container).map { KubernetesVariables.expand($0, environment) }
        try #require(argv.first == "redis-server", "not a redis-server container: \(argv)")
        return try replacing("--dir", with: directory.path, in: Array(argv.dropFirst()))
    }

    /// `arguments` with the value after `option` replaced (the option must be there).
    static func replacing(_ option: String, with value: String, in arguments: [String]) throws -> [String] {
        let index = try #require(arguments.firstIndex(of: option), "no \(option) in \(arguments)")
        try #require(index + 1 < arguments.count, "\(option) has no value")
        var replaced = arguments
        replaced[index + 1] = value
        return replaced
    }

    /// What the patch in `file` makes of its workload: the `FLUXFORGE_REDIS_URL` with the sample
    /// secrets and `addresses` filled in, and the flags it adds after the workload's own args.
    static func patched(_ file: String, objects: [KubernetesObject], addresses: [String: String]) throws -> (url: String, addedArguments: [String]) {
        let patch = try #require(try KubernetesPatch.all().first { $0.file == file }, "no patch \(file)")
        let target = try #require(patch.target(in: objects), "\(file) patches nothing")
        let pair = try #require(patch.containerPairs(in: target).first)
        let base = try #require(pair.base)
        let environment = KubernetesVariables.resolve(KubernetesPatch.environment(pair.patched).entries, secrets: KubernetesVariables.sampleSecrets)
        let url = loopback(try #require(environment["FLUXFORGE_REDIS_URL"], "\(file) sets no FLUXFORGE_REDIS_URL"), addresses)
        let own = base["args"].strings ?? []
        let args = pair.patched["args"].strings ?? own
        try #require(args.starts(with: own), "\(file): args are not \(target.label)'s followed by more")
        return (url, Array(args.dropFirst(own.count)))
    }
}
