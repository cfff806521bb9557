extension RedisClusterClient {
    /// The client's mutable state, without I/O: the routing table, the per-node pools and the
    /// refresh in flight. The client changes it under a lock and does the I/O an action names
    /// after releasing it.
    ///
    /// Invariants: `generation` grows by one each time a topology is installed, so a caller who
    /// saw generation g and got `MOVED` refreshes only if nobody installed a newer one meanwhile;
    /// at most one refresh runs at a time (`refresh`), and concurrent callers await that one.
    struct State {
        private(set) var topology: RedisClusterTopology?
        private(set) var generation = 0
        private var refresh: Task<Result<RedisClusterTopology, RedisError>, Never>?
        private(set) var pools: [RedisClusterEndpoint: RedisClient] = [:]
        private(set) var isClosed = false

        enum RefreshAction {
            /// A topology newer than the caller's is installed already.
            case use(RedisClusterTopology, generation: Int)
            /// Await this refresh (started by someone else, or just now by `start`).
            case wait(Task<Result<RedisClusterTopology, RedisError>, Never>)
            case fail(RedisError)
        }

        /// What a caller who last saw `seen` should do to get a fresh topology. `start` makes the
        /// refresh task; it is called only when no refresh is running.
        mutating func refresh(
            after seen: Int, start: () -> Task<Result<RedisClusterTopology, RedisError>, Never>
        ) -> RefreshAction {
            if isClosed { return .fail(.closed("the Redis cluster client was closed")) }
            if generation > seen, let topology { return .use(topology, generation: generation) }
            if let refresh { return .wait(refresh) }
            let task = start()
            refresh = task
            return .wait(task)
        }

        /// Records a finished refresh; installs its topology when it succeeded.
        mutating func refreshFinished(_ result: Result<RedisClusterTopology, RedisError>) {
            refresh = nil
            guard case .success(let topology) = result, !isClosed else { return }
            self.topology = topology
            generation += 1
        }

        /// After `MOVED slot endpoint`: if the installed topology still routes the slot elsewhere
        /// (it was read from a node that had not heard of the move yet), patch that one slot.
        mutating func applyMoved(slot: Int, to endpoint: RedisClusterEndpoint) {
            guard let topology, topology.master(forSlot: slot) != endpoint else { return }
            self.topology = topology.reassigning(slot: slot, to: endpoint)
        }

        /// The pool for `endpoint`, made (without connecting) on first use; nil once closed.
        mutating func pool(for endpoint: RedisClusterEndpoint, make: () -> RedisClient) -> RedisClient? {
            if isClosed { return nil }
            if let pool = pools[endpoint] { return pool }
            let pool = make()
            pools[endpoint] = pool
            return pool
        }

        /// Marks the client closed; returns the pools to close and the refresh to cancel.
        mutating func close() -> (pools: [RedisClient], refresh: Task<Result<RedisClusterTopology, RedisError>, Never>?) {
            isClosed = true
            defer { pools = [:]; refresh = nil }
            return (Array(pools.values), refresh)
        }
    }
}
