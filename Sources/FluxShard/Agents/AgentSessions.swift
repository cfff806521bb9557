import FluxAPI
import Synchronization

/// Identifies a node across the shard: node names are unique within a tenant only.
struct NodeKey: Hashable, Sendable, CustomStringConvertible {
    var tenant: String
    var node: String
    var description: String { tenant + "/" + node }
}

/// The live agent sessions of this shard, by node. Sending never blocks the scheduler: each
/// session drains its own outbound buffer onto its socket.
///
/// A node that reconnects replaces its older session (the older one is told to close), and only
/// the current session's end counts as the node disconnecting — a late close of a replaced
/// session must not fail the tasks of the new one.
final class AgentSessions: Sendable {
    struct Entry: Sendable {
        var generation: UInt64
        var outbound: AsyncStream<AgentMessage>.Continuation
    }

    private let state = Mutex<(next: UInt64, entries: [NodeKey: Entry], perTenant: [String: Int])>((1, [:], [:]))
    /// Generations whose outbound buffer overflowed (their session is being closed).
    private let overflows = Mutex<Set<UInt64>>([])

    /// Registers a session; returns its generation. A previous session for the node is finished.
    func register(_ key: NodeKey, outbound: AsyncStream<AgentMessage>.Continuation) -> UInt64 {
        let (generation, replaced) = state.withLock { state -> (UInt64, Entry?) in
            let generation = state.next
            state.next += 1
            let replaced = state.entries.updateValue(Entry(generation: generation, outbound: outbound), forKey: key)
            if replaced == nil { state.perTenant[key.tenant, default: 0] += 1 }
            return (generation, replaced)
        }
        replaced?.outbound.yield(.error(APIProblem(code: "replaced", message: "a newer session for this node connected")))
        replaced?.outbound.finish()
        return generation
    }

    /// Removes the session if it is still the current one; true when it was (the node is gone).
    func unregister(_ key: NodeKey, generation: UInt64) -> Bool {
        state.withLock { state in
            guard state.entries[key]?.generation == generation else { return false }
            state.entries[key] = nil
            state.perTenant[key.tenant, default: 1] -= 1
            if state.perTenant[key.tenant] == 0 { state.perTenant[key.tenant] = nil }
            return true
        }
    }

    /// Queues `message` for the node; false when the node has no session, or when its buffer is
    /// full: then the session is ended (`outbound_overflow`) rather than silently thinned, and
    /// the node's attempts are handled as for any lost session.
    @discardableResult
    func send(_ message: AgentMessage, to key: NodeKey) -> Bool {
        guard let entry = state.withLock({ $0.entries[key] }) else { return false }
        switch entry.outbound.yield(message) {
        case .enqueued: return true
        case .dropped:
            overflows.withLock { _ = $0.insert(entry.generation) }
            entry.outbound.finish()
            return false
        case .terminated: return false
        @unknown default: return false
        }
    }

    /// True (once) when the session of `generation` was ended for overflowing.
    func overflowed(_ generation: UInt64) -> Bool {
        overflows.withLock { $0.remove(generation) != nil }
    }

    /// Tells every session of `tenants` (or all, when nil) that its slot moved, and ends them.
    func closeAll(reason: String, tenants: Set<String>? = nil) {
        let closing = state.withLock { state in
            state.entries.filter { tenants?.contains($0.key.tenant) ?? true }.map(\.value)
        }
        for entry in closing {
            entry.outbound.yield(.moved(.init(reason: reason)))
            entry.outbound.finish()
        }
    }

    /// Every node with a session.
    var keys: [NodeKey] { state.withLock { Array($0.entries.keys) } }

    /// Number of connected agents.
    var count: Int { state.withLock { $0.entries.count } }

    /// Connected agents of one tenant.
    func count(tenant: String) -> Int { state.withLock { $0.perTenant[tenant] ?? 0 } }

    /// True when the node has a session now.
    func has(_ key: NodeKey) -> Bool { state.withLock { $0.entries[key] != nil } }
}
