// swift-tools-version: 6.1
import PackageDescription

/// Every target opts into the same strictness: imports are internal unless marked `public import`,
/// and existentials are spelled `any`, so every widening of a module's surface is a decision.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "FluxForge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxforge", targets: ["fluxforge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // Certificates for the cluster CA and agent identity: X.509 and ASN.1 without hand-written DER.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // TLS on agent sessions (issue 12); already in the build through async-http-client.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Test-only: DeployTests parses deploy/*.yaml. No product target links it.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Pure scheduling core: standard library and swift-collections only. No I/O, no clock.
        .target(
            name: "FluxCore",
            dependencies: [.product(name: "Collections", package: "swift-collections")],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        // Codable wire types and input validation for the HTTP API and the agent protocol.
        .target(name: "FluxAPI", dependencies: ["FluxCore"], swiftSettings: strictSettings),
        // Deterministic whole-system simulator over FluxCore (virtual time, simulated agents).
        .target(
            name: "FluxSim",
            dependencies: ["FluxCore", .product(name: "Collections", package: "swift-collections")],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),

        // The only place C enters: Debian's libhiredis (RESP reader and command formatter).
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // Async Redis client on SwiftNIO; knows nothing of the FluxForge domain.
        .target(
            name: "FluxRedis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        // Redis-backed stores, the key schema and Lua scripts, leases, HTTP problem mapping.
        .target(
            name: "FluxRuntime",
            dependencies: [
                "FluxCore", "FluxAPI", "FluxRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The shard process: tenant API, agent gateway, ingest consumer, scheduler driver.
        .target(
            name: "FluxShard",
            dependencies: [
                "FluxCore", "FluxAPI", "FluxRedis", "FluxRuntime", "FluxIdentity", "FluxTLS",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The router: the public entry. Forwards tenant calls to the slot's owner (pooled HTTP
        // client), writes submissions itself while a slot has no owner, relays agent sessions.
        .target(
            name: "FluxRouter",
            dependencies: [
                "FluxAPI", "FluxRedis", "FluxRuntime", "FluxIdentity", "FluxTLS",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The load generator of `fluxforge bench load`: simulated agents through the router,
        // paced submissions, HdrHistogram latencies, per-process CPU/RSS, Redis cost per task.
        .target(
            name: "FluxLoad",
            dependencies: [
                "FluxAPI", "FluxRedis", "FluxRuntime", "FluxIdentity",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Test helpers shipped as a target: seeded RNG, Redis URL from the environment.
        // A caller of the router's HTTP API: JSON calls, API errors, server-sent event streams.
        // What the CLI (and tests that watch streams) speak to a cluster with.
        .target(
            name: "FluxClient",
            dependencies: [
                "FluxAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "FluxTesting", dependencies: ["FluxCore", "FluxRedis", "FluxAPI"], swiftSettings: strictSettings),

        // Edge agent: one session to the router, a bounded executor of argv commands, an outbox of
        // results kept until acknowledged. Never imports the shard or router targets.
        .target(
            name: "FluxAgent",
            dependencies: [
                "FluxAPI", "FluxIdentity",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),

        // TLS on the agent and API listeners of routers and shards (issue 12): server
        // configurations, who a verified peer certificate names, the revocation watcher.
        .target(
            name: "FluxTLS",
            dependencies: [
                "FluxIdentity", "FluxRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // Cluster CA and certificates (issue 12): pure, clock and serials injected; files are the CLI's.
        .target(
            name: "FluxIdentity",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),

        .executableTarget(
            name: "fluxforge",
            dependencies: [
                "FluxCore", "FluxSim", "FluxRedis", "FluxRuntime", "FluxShard", "FluxRouter", "FluxAgent", "FluxLoad", "FluxIdentity", "FluxTLS",
                "FluxClient", "FluxAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        .testTarget(
            name: "FluxCoreTests",
            dependencies: [
                "FluxCore", "FluxSim", "FluxTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxIdentityTests",
            dependencies: [
                "FluxIdentity",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "FluxClientTests", dependencies: ["FluxClient"], swiftSettings: strictSettings),
        .testTarget(
            name: "FluxAPITests",
            dependencies: ["FluxAPI"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxRuntimeTests",
            dependencies: [
                "FluxRuntime", "FluxAPI", "FluxCore", "FluxRedis", "FluxTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxAgentTests",
            dependencies: [
                "FluxAgent", "FluxAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxRedisTests",
            dependencies: [
                "FluxRedis", "FluxTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxShardTests",
            dependencies: [
                "FluxShard", "FluxRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxLoadTests",
            dependencies: ["FluxLoad"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FluxRouterTests",
            dependencies: [
                "FluxRouter",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "FluxAPI", "FluxCore", "FluxRedis", "FluxRuntime", "FluxTesting", "FluxClient",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Parses every manifest under deploy/ and checks the flags it passes against the real binary.
        .testTarget(
            name: "DeployTests",
            dependencies: ["FluxTesting", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
    ]
)
