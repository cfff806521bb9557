public import FluxRuntime
public import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The router's view of revoked agent certificates (issue 12): it polls the revocation version
/// in Redis every `interval`, reloads the serials when it moved, refuses a revoked certificate
/// at `hello`, and closes the live sessions that present one — so a revocation takes effect
/// within about one interval on every router.
public final class RevocationWatcher: Sendable {
    public typealias Closer = @Sendable () async -> Void

    private struct State {
        var version: Int64 = -1
        var revoked: Set<String> = []
        /// Live sessions by certificate serial, each with what ends it.
        var sessions: [String: [UUID: Closer]] = [:]
    }

    private let revocations: CertificateRevocations
    private let interval: Duration
    private let logger: Logger
    private let state = Mutex(State())

    public init(revocations: CertificateRevocations, interval: Duration, logger: Logger) {
        self.revocations = revocations
        self.interval = interval
        self.logger = logger
    }

    public func isRevoked(_ serial: String) -> Bool { state.withLock { $0.revoked.contains(serial) } }

    /// Remembers a live session; `close` is called if its serial is revoked while it lasts.
    public func register(serial: String, close: @escaping Closer) -> UUID {
        let id = UUID()
        state.withLock { $0.sessions[serial, default: [:]][id] = close }
        return id
    }

    public func unregister(serial: String, id: UUID) {
        state.withLock { state in
            state.sessions[serial]?[id] = nil
            if state.sessions[serial]?.isEmpty == true { state.sessions[serial] = nil }
        }
    }

    /// Polls until cancelled. A Redis error keeps the last known set (and is retried next round).
    public func run() async {
        while !Task.isCancelled {
            await refresh()
            try? await Task.sleep(for: interval)
        }
    }

    /// One poll: reload on a new version, then end the sessions of revoked serials.
    public func refresh() async {
        do {
            let version = try await revocations.version()
            guard version != state.withLock({ $0.version }) else { return }
            let revoked = try await revocations.current(nowMs: WallClock.nowMs())
            let closers = state.withLock { state -> [Closer] in
                state.version = version
                state.revoked = revoked
                return revoked.flatMap { state.sessions[$0].map { Array($0.values) } ?? [] }
            }
            if !closers.isEmpty { logger.notice("closing sessions of revoked certificates", metadata: ["sessions": "\(closers.count)"]) }
            for close in closers { await close() }
        } catch {
            logger.warning("cannot read certificate revocations", metadata: ["error": "\(error)"])
        }
    }
}

/// Runs the watcher for as long as the router runs.
public struct RevocationService: Service {
    let watcher: RevocationWatcher

    public init(watcher: RevocationWatcher) { self.watcher = watcher }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await watcher.run() }
    }
}
