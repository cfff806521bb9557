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
    ],
    targets: [
        // Pure scheduling core: standard library and swift-collections only. No I/O, no clock.
        .target(
            name: "FluxCore",
            dependencies: [.product(name: "Collections", package: "swift-collections")],
            swiftSettings: strictSettings
        ),
        // Deterministic whole-system simulator over FluxCore (virtual time, simulated agents).
        .target(name: "FluxSim", dependencies: ["FluxCore"], swiftSettings: strictSettings),

        // The only place C enters: Debian's libhiredis (RESP reader and command formatter).
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // Async Redis client on SwiftNIO; knows nothing of the FluxForge domain.
        .target(
            name: "FluxRedis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        // Test helpers shipped as a target: seeded RNG, Redis URL from the environment.
        .target(name: "FluxTesting", dependencies: ["FluxCore", "FluxRedis"], swiftSettings: strictSettings),

        .executableTarget(
            name: "fluxforge",
            dependencies: [
                "FluxCore", "FluxSim", "FluxRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
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
            name: "FluxRedisTests",
            dependencies: ["FluxRedis", "FluxTesting"],
            swiftSettings: strictSettings
        ),
    ]
)
