import FluxRedis
import FluxTesting
import Testing

/// Opens a connection to the shared test server, runs `body`, and always closes it.
func withConnection<T>(
    _ configuration: RedisConfiguration? = nil,
    _ body: (RedisConnection) async throws -> T
) async throws -> T {
    let connection = try await RedisConnection.connect(configuration: configuration ?? TestRedis.configuration())
    do {
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}

/// Opens a pooled client to the shared test server (or `configuration`), runs `body`, and
/// always shuts it down.
func withClient<T>(
    _ configuration: RedisConfiguration? = nil,
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: try configuration ?? TestRedis.configuration())
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}

/// Runs `body` and returns the `RedisError` it threw; records a test failure if it did not.
func redisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected a RedisError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        Issue.record("expected a RedisError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
