import NIOCore

extension RedisClient {
    /// The pool's slots and their lifecycle, without I/O: the client mutates it under a lock
    /// and performs the returned action after releasing the lock.
    ///
    ///     idle ──lease──▶ connecting ──ok──▶ connected ──(connection closed)──▶ idle
    ///                        │ failed                      (reconnect at once)
    ///                        ▼
    ///                     backingOff(until) ──lease after `until`──▶ connecting
    ///
    /// While a slot backs off, callers that land on it fail at once with the last connect
    /// error; the delay doubles per consecutive failure from the minimum up to the maximum.
    struct StateMachine {
        enum Slot {
            case idle(failures: Int)
            case connecting(EventLoopPromise<RedisConnection>, failures: Int)
            case connected(RedisConnection)
            case backingOff(until: NIODeadline, failures: Int, error: RedisError)
        }

        enum LeaseAction {
            case use(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case connect(slot: Int, EventLoopPromise<RedisConnection>)
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
        mutating func lease(now: NIODeadline, makePromise: (Int) -> EventLoopPromise<RedisConnection>) -> LeaseAction {
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
            _ slot: Int, failures: Int, _ makePromise: (Int) -> EventLoopPromise<RedisConnection>
        ) -> LeaseAction {
            let promise = makePromise(slot)
            slots[slot] = .connecting(promise, failures: failures)
            return .connect(slot: slot, promise)
        }

        /// Records a finished connect. Returns a connection the caller must close because the
        /// client shut down meanwhile.
        mutating func connectSucceeded(slot: Int, _ connection: RedisConnection) -> RedisConnection? {
            if isShutDown { return connection }
            slots[slot] = .connected(connection)
            return nil
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
        mutating func shutDown() -> [RedisConnection] {
            isShutDown = true
            let connections = slots.compactMap { slot -> RedisConnection? in
                if case .connected(let connection) = slot { return connection }
                return nil
            }
            slots = slots.map { _ in .idle(failures: 0) }
            return connections
        }
    }
}
