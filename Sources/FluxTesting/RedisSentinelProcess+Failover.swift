import FluxRedis

/// What failover tests ask of a running Sentinel deployment: who the master is, killing it,
/// and waiting until the sentinels have promoted a replica.
extension RedisSentinelProcess {
    /// The master's port as the first answering sentinel names it.
    public func masterPort() async throws -> Int {
        var failures: [String] = []
        for port in sentinelPorts {
            do {
                let reply = try await command(RedisCommand("SENTINEL", "get-master-addr-by-name", masterName), port: port)
                if let fields = reply.array, fields.count == 2, let master = fields[1].int { return Int(master) }
                failures.append("\(port): \(reply)")
            } catch {
                failures.append("\(port): \(error)")
            }
        }
        throw HarnessError("no sentinel named the master: \(failures)")
    }

    /// SIGKILLs the current master (no goodbye to clients, replicas or sentinels); returns its port.
    @discardableResult
    public func killMaster() async throws -> Int {
        let port = try await masterPort()
        kill(port: port)
        return port
    }

    /// Waits until every sentinel names a master other than `oldPort` and that node answers
    /// `ROLE` as a master; returns its port.
    public func waitForPromotion(from oldPort: Int, timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var named: [Int: String] = [:]
        while ContinuousClock.now < deadline {
            for port in sentinelPorts {
                let reply = try? await command(RedisCommand("SENTINEL", "get-master-addr-by-name", masterName), port: port)
                named[port] = reply?.array?.last?.string ?? "\(reply.map { "\($0)" } ?? "no answer")"
            }
            let masters = Set(named.values)
            if masters.count == 1, let master = masters.first.flatMap({ Int($0) }), master != oldPort,
               (try? await command(RedisCommand("ROLE"), port: master))?.array?.first?.string == "master" {
                return master
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("the sentinels did not promote a replica of \(oldPort) within \(timeout): \(named)\n\(sentinelLogs())")
    }
}
