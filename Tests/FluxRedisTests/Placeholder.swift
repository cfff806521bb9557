import Testing
@testable import FluxRedis
