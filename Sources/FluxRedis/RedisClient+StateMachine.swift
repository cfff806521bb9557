import NIOCore

/// What the pool's state machine needs of a connection: who it is (`===`) and whether it closed.
/// `RedisConnection` in the client; a fake in the machine's unit tests.
protocol RedisPooledConnection: AnyObject, Sendable {
    var isClosed: Bool { get }
}

extension RedisConnection: RedisPooledConnection {}

extension RedisClient {
    typealias StateMachine = PoolStateMachine<RedisConnection>

    /// The pool's slots and their lifecycle, without I/O: the client mutates it under a lock
    /// and performs the returned action after releasing the lock.
    ///
    ///     idle ──lease──▶ connecting ──ok──▶ connected ──(connection closed)──▶ idle
    ///       ▲                │ failed            │          (reconnect at once)
    ///       │                ▼                   └──(answered READONLY)──▶ idle
    ///       │             backingOff(until) ──lease after `until`──▶ connecting
    ///       └──(another slot connected)──┘
    ///
    /// While a slot backs off, callers that land on it fail at once with the last connect
    /// error; the delay doubles per consecutive failure from the minimum up to the maximum.
    /// Every connect starts from the configuration, so with Sentinel each one asks the
    /// sentinels for the master again.
    struct PoolStateMachine<Connection: RedisPooledConnection> {
        enum Slot {
            case idle(failures: Int)
            case connecting(EventLoopPromise<Connection>, failures: Int)
            case connected(Connection)
            case backingOff(until: NIODeadline, failures: Int, error: RedisError)
        }

        enum LeaseAction {
            case use(Connection)
            case wait(EventLoopFuture<Connection>)
            case connect(slot: Int, EventLoopPromise<Connection>)
            case fail(RedisError)
        }

        private(set) var slots: [Slot]
        private var nextSlot = 0
        private(set) var isShutDown = false
        let backoffMinimum: TimeAmount
        let backoffMaximum: TimeAmount

        init(poolSize: Int, backoffMinimum: TimeAmount, backoffMaximum: TimeAmount) {
            precondition(poolSize >= 1, "a Redis pool needs at least one connection")
            slots = Array(repeating: .idle(failures: 0), count: poolSize)
            self.backoffMinimum = backoffMinimum
            self.backoffMaximum = backoffMaximum
        }

        /// Picks the next slot round-robin and says how to get a connection from it.
        /// `makePromise(slot)` is called only when a connect must start.
        mutating func lease(now: NIODeadline, makePromise: (Int) -> EventLoopPromise<Connection>) -> LeaseAction {
            if isShutDown { return .fail(.closed("the Redis client was shut down")) }
            let slot = nextSlot
            nextSlot = (nextSlot + 1) % slots.count
            switch slots[slot] {
            case .connected(let connection) where !connection.isClosed:
                return .use(connection)
            case .connected:
                return startConnect(slot, failures: 0, makePromise)
            case .connecting(let promise, _):
                return .wait(promise.futureResult)
            case .idle(let failures):
                return startConnect(slot, failures: failures, makePromise)
            case .backingOff(let until, let failures, let error):
                if now < until { return .fail(error) }
                return startConnect(slot, failures: failures, makePromise)
            }
        }

        private mutating func startConnect(
            _ slot: Int, failures: Int, _ makePromise: (Int) -> EventLoopPromise<Connection>
        ) -> LeaseAction {
            let promise = makePromise(slot)
            slots[slot] = .connecting(promise, failures: failures)
            return .connect(slot: slot, promise)
        }

        /// Records a finished connect. Returns a connection the caller must close because the
        /// client shut down meanwhile.
        ///
        /// The server is reachable again, so slots backing off from earlier failures stop failing
        /// their callers with a stale error: they go idle and connect on their next lease. Without
        /// this, after an outage (or a failover) each slot comes back only when its own backoff
        /// ends, and calls landing on the others keep failing for up to the maximum backoff.
        mutating func connectSucceeded(slot: Int, _ connection: Connection) -> Connection? {
            if isShutDown { return connection }
            slots[slot] = .connected(connection)
            for index in slots.indices {
                if case .backingOff = slots[index] { slots[index] = .idle(failures: 0) }
            }
            return nil
        }

        /// `connection` answered `READONLY`: it reaches a replica (a demoted master). Its slot
        /// goes idle, so the next lease there connects afresh. Returns the connection for the
        /// caller to retire, or nil when no slot holds it any more (already replaced or shut down).
        mutating func connectionDemoted(_ connection: Connection) -> Connection? {
            guard !isShutDown else { return nil }
            let slot = slots.firstIndex { slot in
                if case .connected(let held) = slot { return held === connection }
                return false
            }
            guard let slot else { return nil }
            slots[slot] = .idle(failures: 0)
            return connection
        }

        mutating func connectFailed(slot: Int, error: RedisError, now: NIODeadline) {
            guard !isShutDown, case .connecting(_, let failures) = slots[slot] else { return }
            slots[slot] = .backingOff(until: now + backoff(afterFailures: failures + 1), failures: failures + 1, error: error)
        }

        /// `minimum × 2^(failures-1)`, capped at `maximum`.
        func backoff(afterFailures failures: Int) -> TimeAmount {
            let exponent = min(max(failures - 1, 0), 30)
            let delay = backoffMinimum.nanoseconds.multipliedReportingOverflow(by: Int64(1) << exponent)
            return delay.overflow ? backoffMaximum : min(.nanoseconds(delay.partialValue), backoffMaximum)
        }

        /// Marks the pool shut down and returns the connections to close.
        mutating func shutDown() -> [Connection] {
            isShutDown = true
            let connections = slots.compactMap { slot -> Connection? in
                if case .connected(let connection) = slot { return connection }
                return nil
            }
            slots = slots.map { _ in .idle(failures: 0) }
            return connections
        }
    }
}
