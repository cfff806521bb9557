import NIOCore
import NIOPosix

/// The entry point. For the server roles, Swift concurrency runs on NIO's event-loop threads
/// instead of a separate thread pool: a request, its Redis round trip and its answer then stay on
/// one thread instead of hopping between two pools, which on a 2-core machine was most of the
/// cost of a small request (docs/performance.md). Agents keep the default executor: their
/// subprocess handling may block a thread, which must never be an event loop.
@main
enum FluxForgeMain {
    static let rolesOnEventLoops: Set<String> = ["shard", "router"]

    static func main() async {
        if let role = CommandLine.arguments.dropFirst().first, rolesOnEventLoops.contains(role) {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await FluxForgeCommand.main()
    }
}
