import Foundation
public import FluxRedis

/// A real Redis Sentinel deployment for tests: one master, `replicas` replicas of it
/// (`--replicaof`) and `sentinels` sentinels (`redis-server sentinel-<port>.conf --sentinel`,
/// `sentinel monitor <name> 127.0.0.1 <master> <quorum>`), all on free loopback ports with their
/// files in a fresh temporary directory. A short `down-after-milliseconds` (1 s by default) makes
/// a failover take seconds, not the default 30 s. Tests kill the master
/// (`RedisSentinelProcess+Failover.swift`); `stop()` (or, at the latest, release) kills every
/// process and removes the directory.
///
/// Every wait is bounded: a deployment that does not form throws, naming what it saw.
public final class RedisSentinelProcess: @unchecked Sendable {
    /// The name the sentinels monitor the master under.
    public let masterName: String
    /// Ports of the data nodes; the first was started as the master.
    public let dataPorts: [Int]
    /// Ports of the sentinels.
    public let sentinelPorts: [Int]
    /// How long a master must be unreachable before a sentinel thinks it down.
    public let downAfter: Duration
    private let processes: RedisProcessGroup
    var directory: URL { processes.directory }

    /// Starts the master and its replicas, waits until the replicas are in sync, starts the
    /// sentinels and waits (all within `startTimeout`) until every sentinel sees the master, its
    /// replicas and the other sentinels.
    public init(
        masterName: String = "fluxmaster", replicas: Int = 1, sentinels: Int = 3, quorum: Int = 2,
        downAfter: Duration = .milliseconds(1_000), failoverTimeout: Duration = .seconds(5), startTimeout: Duration = .seconds(30)
    ) async throws {
        precondition(sentinels >= quorum && quorum >= 1, "a quorum needs that many sentinels")
        self.masterName = masterName
        self.downAfter = downAfter
        processes = try RedisProcessGroup(name: "redis-sentinel")
        dataPorts = try (0...replicas).map { _ in try RedisServerProcess.freeLoopbackPort() }
        sentinelPorts = try (0..<sentinels).map { _ in try RedisServerProcess.freeLoopbackPort() }
        let deadline = ContinuousClock.now + startTimeout
        do {
            for (index, port) in dataPorts.enumerated() { try startDataNode(port: port, replicaOf: index == 0 ? nil : dataPorts[0]) }
            for port in dataPorts { try await waitUntilAnswering(port: port, deadline: deadline) }
            try await waitForReplicas(replicas, deadline: deadline)
            for port in sentinelPorts {
                try startSentinel(port: port, quorum: quorum, failoverTimeout: failoverTimeout)
            }
            try await waitUntilSentinelsSee(replicas: replicas, deadline: deadline)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// `redis-sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,…/<name>/0`: what a process is given.
    public var url: String {
        "redis-sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(masterName)/0"
    }

    /// The configuration of `url`, with test-sized timeouts and reconnect backoff.
    public var configuration: RedisConfiguration {
        guard var configuration = try? RedisConfiguration(url: url) else { preconditionFailure("the harness's own URL does not parse: \(url)") }
        configuration.connectTimeout = .seconds(5)  // see RedisClusterProcess.configuration(port:)
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectBackoffMaximum = .milliseconds(500)
        configuration.sentinel?.timeout = .milliseconds(500)
        return configuration
    }

    /// Kills every process with SIGKILL and removes the directory. Safe to call more than once.
    public func stop() { processes.stop() }

    /// SIGKILLs the process on `port` (no goodbye to anyone) and waits for it to exit.
    public func kill(port: Int) { processes.kill(port: port) }

    /// SIGSTOPs the process on `port` (a stalled machine) until `resume(port:)`.
    public func pause(port: Int) { processes.pause(port: port) }

    /// SIGCONTs a paused process.
    public func resume(port: Int) { processes.resume(port: port) }

    /// Sends one command to the process on `port` on a connection of its own, closed after.
    public func command(_ command: RedisCommand, port: Int) async throws -> RedisReply {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(5)  // see RedisClusterProcess.configuration(port:)
        configuration.commandTimeout = .seconds(2)
        return try await RedisProcessGroup.command(command, configuration: configuration)
    }

    /// The tail of a process's log (data node or sentinel), for failure messages.
    public func log(port: Int, lines: Int = 20) -> String {
        let name = sentinelPorts.contains(port) ? "sentinel-\(port).log" : "redis-\(port).log"
        return processes.logTail(name, lines: lines)
    }

    /// Every sentinel's log tail, for failure messages.
    public func sentinelLogs(lines: Int = 15) -> String {
        sentinelPorts.map { "--- sentinel \($0):\n\(log(port: $0, lines: lines))" }.joined(separator: "\n")
    }

    private func startDataNode(port: Int, replicaOf master: Int?) throws {
        try launch(port: port, arguments: [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--logfile", "redis-\(port).log",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            // Replicas sync at once instead of after the default 5 s wait for more replicas.
            "--repl-diskless-sync-delay", "0",
        ] + (master.map { ["--replicaof", "127.0.0.1", String($0)] } ?? []))
    }

    private func startSentinel(port: Int, quorum: Int, failoverTimeout: Duration) throws {
        let file = directory.appendingPathComponent("sentinel-\(port).conf")
        let text = """
            port \(port)
            bind 127.0.0.1
            daemonize no
            dir "\(directory.path)"
            logfile "sentinel-\(port).log"
            sentinel resolve-hostnames no
            sentinel monitor \(masterName) 127.0.0.1 \(dataPorts[0]) \(quorum)
            sentinel down-after-milliseconds \(masterName) \(Self.milliseconds(downAfter))
            sentinel failover-timeout \(masterName) \(Self.milliseconds(failoverTimeout))
            sentinel parallel-syncs \(masterName) 1

            """
        try text.write(to: file, atomically: true, encoding: .utf8)
        try launch(port: port, arguments: [file.path, "--sentinel"])
    }

    private func launch(port: Int, arguments: [String]) throws {
        try processes.launch(port: port, arguments: arguments)
    }

    static func milliseconds(_ duration: Duration) -> Int { Int(duration / .milliseconds(1)) }
}

extension RedisSentinelProcess {
    /// Polls with PING until the process on `port` answers.
    private func waitUntilAnswering(port: Int, deadline: ContinuousClock.Instant) async throws {
        try await RedisProcessGroup.waitUntilAnswering(
            deadline: deadline, describe: { "redis 127.0.0.1:\(port) (log:\n\(log(port: port)))" },
            ping: { _ = try await command(RedisCommand("PING"), port: port) })
    }

    /// Waits until the master lists `count` replicas online.
    private func waitForReplicas(_ count: Int, deadline: ContinuousClock.Instant) async throws {
        var info = ""
        while ContinuousClock.now < deadline {
            info = (try? await command(RedisCommand("INFO", "replication"), port: dataPorts[0]).string) ?? ""
            if info.components(separatedBy: "state=online").count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("the master's \(count) replicas are not in sync:\n\(info)")
    }

    /// Waits until every sentinel sees the master as up, with its replicas and the other sentinels.
    private func waitUntilSentinelsSee(replicas: Int, deadline: ContinuousClock.Instant) async throws {
        for port in sentinelPorts {
            var fields: [String: String] = [:]
            while true {
                fields = (try? await masterState(sentinel: port)) ?? [:]
                if fields["flags"] == "master", fields["num-slaves"] == String(replicas),
                   fields["num-other-sentinels"] == String(sentinelPorts.count - 1) { break }
                guard ContinuousClock.now < deadline else {
                    throw HarnessError("sentinel \(port) does not see the deployment yet: \(fields)\n\(log(port: port))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// `SENTINEL MASTER <name>` on the sentinel on `port`, as a field → value map.
    public func masterState(sentinel port: Int) async throws -> [String: String] {
        let reply = try await command(RedisCommand("SENTINEL", "MASTER", masterName), port: port)
        let elements = (reply.array ?? []).compactMap(\.string)
        return Dictionary(stride(from: 0, to: elements.count - 1, by: 2).map { (elements[$0], elements[$0 + 1]) }) { $1 }
    }
}
