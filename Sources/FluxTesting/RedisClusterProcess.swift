import Foundation
public import FluxRedis

/// A real Redis Cluster for tests: `masters` masters with `replicasPerMaster` replicas each
/// (3 + 3 by default), every node a `redis-server --cluster-enabled yes` on 127.0.0.1 with its
/// own client and cluster-bus ports and its files in a fresh temporary directory, joined with
/// `redis-cli --cluster create`. A short node timeout makes failovers take seconds, not the
/// default 15 s. Tests may kill masters and move slots (`RedisClusterProcess+Slots.swift`);
/// `stop()` (or, at the latest, release) kills every node and removes the directory.
///
/// Every wait is bounded: a cluster that does not form or heal throws, naming what it saw.
public final class RedisClusterProcess: @unchecked Sendable {
    /// Client ports of every node; the first `masters` were created as masters.
    public let ports: [Int]
    /// The cluster's node timeout: how long until an unreachable master is failed over.
    public let nodeTimeout: Duration
    private let processes: RedisProcessGroup
    var directory: URL { processes.directory }
    private let lock = NSLock()
    /// The cluster-bus port of each node, kept so a restarted node comes back as itself.
    private var busPorts: [Int: Int] = [:]

    /// Starts the nodes, creates the cluster and waits (at most `startTimeout`) until every node
    /// reports `cluster_state:ok` with all slots served and every replica is in sync.
    public init(
        masters: Int = 3, replicasPerMaster: Int = 1, nodeTimeout: Duration = .milliseconds(1_000),
        startTimeout: Duration = .seconds(30)
    ) async throws {
        precondition(masters >= 3, "redis-cli --cluster create needs at least 3 masters")
        self.nodeTimeout = nodeTimeout
        processes = try RedisProcessGroup(name: "redis-cluster")
        ports = try (0..<(masters * (1 + replicasPerMaster))).map { _ in try RedisServerProcess.freeLoopbackPort() }
        do {
            for port in ports { try startNode(port: port) }
            let clock = ContinuousClock()
            let deadline = clock.now + startTimeout
            for port in ports { try await waitUntilAnswering(port: port, deadline: deadline) }
            try await createCluster(replicasPerMaster: replicasPerMaster, deadline: deadline)
            try await waitUntilHealthy(timeout: deadline - clock.now, replicasInSync: replicasPerMaster)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Configurations of every node, to seed a `RedisClusterClient`; short timeouts for tests.
    public var seedConfigurations: [RedisConfiguration] { ports.map(configuration(port:)) }

    /// A configuration for one node, with test-sized timeouts and reconnect backoff. The connect
    /// timeout stays generous: on loopback a killed node refuses at once and a paused one is
    /// accepted by the kernel, so it only ever fires on a loaded machine (in the full suite on two
    /// cores a 1 s bound failed a test that had nothing wrong).
    public func configuration(port: Int) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(5)
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectBackoffMaximum = .milliseconds(200)
        return configuration
    }

    /// Ports of the nodes whose process runs.
    public var runningPorts: [Int] {
        ports.filter(processes.isRunning(port:))
    }

    /// Kills every node with SIGKILL and removes the directory. Safe to call more than once.
    public func stop() { processes.stop() }

    /// SIGKILLs the node on `port` (no goodbye to clients or the cluster) and waits for it to exit.
    public func kill(port: Int) { processes.kill(port: port) }

    /// Starts a killed node again on its ports, with its `nodes.conf`: it rejoins the cluster
    /// (as a replica of whoever took over its slots). Its data is gone (no persistence in tests).
    public func restart(port: Int) throws {
        try startNode(port: port)
    }

    private func startNode(port: Int) throws {
        let busPort = try lock.withLock { try busPorts[port] ?? RedisServerProcess.freeLoopbackPort() }
        lock.withLock { busPorts[port] = busPort }
        try processes.launch(port: port, arguments: [
            "--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf",
            "--cluster-node-timeout", String(nodeTimeout.components.seconds * 1000 + nodeTimeout.components.attoseconds / 1_000_000_000_000_000),
            "--dir", directory.path, "--logfile", "redis-\(port).log",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            // Replicas sync at once instead of after the default 5 s wait for more replicas.
            "--repl-diskless-sync-delay", "0",
        ])
    }

    /// Polls with PING until the node on `port` answers.
    private func waitUntilAnswering(port: Int, deadline: ContinuousClock.Instant) async throws {
        try await RedisProcessGroup.waitUntilAnswering(
            deadline: deadline, describe: { "cluster node 127.0.0.1:\(port) (log:\n\(log(port: port)))" },
            ping: { _ = try await command(RedisCommand("PING"), port: port) })
    }

    /// `redis-cli --cluster create … --cluster-replicas N --cluster-yes`, killed if it overruns.
    private func createCluster(replicasPerMaster: Int, deadline: ContinuousClock.Instant) async throws {
        let output = directory.appendingPathComponent("cluster-create.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = try RedisServerProcess.findExecutable("redis-cli")
        process.arguments = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" }
            + ["--cluster-replicas", String(replicasPerMaster), "--cluster-yes"]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("redis-cli --cluster create did not finish in time:\n\(text)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("redis-cli --cluster create exited with \(process.terminationStatus):\n\(text)")
        }
    }

    /// Sends one command to the node on `port` on a connection of its own, closed after.
    public func command(_ command: RedisCommand, port: Int) async throws -> RedisReply {
        try await RedisProcessGroup.command(command, configuration: configuration(port: port))
    }

    /// The tail of a node's log, for failure messages.
    public func log(port: Int, lines: Int = 20) -> String {
        processes.logTail("redis-\(port).log", lines: lines)
    }
}
