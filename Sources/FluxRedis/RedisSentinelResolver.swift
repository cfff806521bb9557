import Logging
import NIOCore

/// The I/O of Sentinel mode: finds the current master and opens a connection to it.
/// `RedisConnection.connect` hands every configuration with `sentinel` set to it, so each pooled
/// (re)connect and each dedicated connection resolves afresh, and a failover is followed by
/// reconnecting.
///
/// Sentinel's answer may be stale (a sentinel that has not heard of a failover yet, or an old
/// master that came back and has not been demoted yet), so it is not trusted blindly:
/// 1. the sentinels are asked in turn, `SENTINEL get-master-addr-by-name <name>`, each bounded by
///    `RedisSentinelConfiguration.timeout` (connect, then answer); the first that names an
///    address wins;
/// 2. the connection to that address (with the data nodes' `AUTH` and `SELECT`) is returned only
///    if `ROLE` answers `master`. Otherwise it is closed and the connect fails with
///    `connectionRefused`: the pool backs off and asks the sentinels again, and nothing is ever
///    sent to a node that is not a master.
///
/// A connection that was a master when checked can be demoted later: the sentinels' demotion
/// (`REPLICAOF` + `CLIENT KILL TYPE normal`) closes it, and `RedisClient` drops a pooled
/// connection that answers `READONLY`.
enum RedisSentinelResolver {
    /// A connection to the master the sentinels name, checked with `ROLE`.
    static func connectToMaster(
        configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger
    ) async throws(RedisError) -> RedisConnection {
        guard let sentinel = configuration.sentinel else {
            preconditionFailure("connectToMaster needs a Sentinel configuration")
        }
        let (master, namedBy) = try await askForMaster(sentinel, eventLoop: eventLoop, logger: logger)
        var data = configuration
        data.sentinel = nil
        data.host = master.host
        data.port = master.port
        let what = "\(master), named master of '\(sentinel.masterName)' by sentinel \(namedBy),"
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration: data, eventLoop: eventLoop, logger: logger)
        } catch {
            throw RedisError(code: error.code, message: "\(what) cannot be used: \(error.message)")
        }
        try await requireMaster(connection, what: what, logger: logger)
        return connection
    }

    /// Asks each sentinel in turn; the first address named wins. Throws `connectionRefused`
    /// listing every sentinel's failure when none names one.
    static func askForMaster(
        _ sentinel: RedisSentinelConfiguration, eventLoop: any EventLoop, logger: Logger
    ) async throws(RedisError) -> (master: RedisSentinelConfiguration.Address, namedBy: RedisSentinelConfiguration.Address) {
        var failures: [String] = []
        for address in sentinel.sentinels {
            do {
                if let master = try await ask(address, sentinel, eventLoop: eventLoop, logger: logger) {
                    logger.debug("redis sentinel named the master", metadata: [
                        "sentinel": "\(address)", "master_name": "\(sentinel.masterName)", "master": "\(master)",
                    ])
                    return (master, address)
                }
                failures.append("\(address): monitors no master named '\(sentinel.masterName)'")
            } catch {
                failures.append("\(address): \(error.message)")
            }
        }
        throw RedisError(code: .connectionRefused,
                         message: "no sentinel named a master for '\(sentinel.masterName)': \(failures.joined(separator: "; "))")
    }

    /// One sentinel's answer, on a connection of its own closed at once.
    private static func ask(
        _ address: RedisSentinelConfiguration.Address, _ sentinel: RedisSentinelConfiguration, eventLoop: any EventLoop, logger: Logger
    ) async throws(RedisError) -> RedisSentinelConfiguration.Address? {
        var configuration = RedisConfiguration(host: address.host, port: address.port, password: sentinel.password)
        configuration.connectTimeout = sentinel.timeout
        configuration.commandTimeout = sentinel.timeout
        let connection = try await RedisConnection.connect(configuration: configuration, eventLoop: eventLoop, logger: logger)
        let reply: RedisReply
        do {
            reply = try await connection.send(RedisCommand("SENTINEL", "get-master-addr-by-name", sentinel.masterName))
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return try RedisSentinelReplies.masterAddress(reply)
    }

    /// Closes `connection` and throws unless its node answers `ROLE` with `master`.
    private static func requireMaster(_ connection: RedisConnection, what: String, logger: Logger) async throws(RedisError) {
        let role: String
        do {
            role = try RedisSentinelReplies.role(try await connection.send(RedisCommand("ROLE")))
        } catch {
            await connection.close()
            // Fail closed: a node whose role cannot be checked is not written to. An ACL user
            // without ROLE (`-@admin` or `-@dangerous` take it away) gets NOPERM here.
            let hint = error.serverErrorPrefix == "NOPERM" ? " (give the ACL user '+role')" : ""
            throw RedisError(code: .connectionRefused, message: "\(what) cannot be checked with ROLE\(hint): \(error.message)")
        }
        guard role == "master" else {
            await connection.close()
            logger.warning("redis sentinel named a node that is not a master; not using it", metadata: [
                "node": "\(connection.configuration.host):\(connection.configuration.port)", "role": "\(role)",
            ])
            throw RedisError(code: .connectionRefused,
                             message: "\(what) answers ROLE '\(role)', not 'master' (a stale sentinel or a demoted master): not using it")
        }
    }
}
