@testable import FluxRouter
import Testing

/// The router's two pure decisions: who owns a slot, and what to do when a call fails.
@Suite("Router decisions")
struct RoutingTests {
    let a = OwnerTable.Shard(id: "shard-a", api: "127.0.0.1:1", agent: "127.0.0.1:2")
    let b = OwnerTable.Shard(id: "shard-b", api: "127.0.0.1:3", agent: "127.0.0.1:4")

    @Test func aSlotBelongsToItsLeaseHolderOnlyWhileTheHolderHeartbeats() {
        let table = OwnerTable(
            slotCount: 4, leases: [0: "shard-a:7", 1: "shard-b:3", 2: "shard-gone:9"],
            members: [(a, 10_000), (b, 4_000)], nowMs: 10_500, memberTTLMs: 5_000)
        #expect(table.owner(ofSlot: 0) == .init(shard: a, epoch: 7))
        #expect(table.owner(ofSlot: 1) == nil, "b's heartbeat is 6.5 s old: crashed, its lease not yet expired")
        #expect(table.owner(ofSlot: 2) == nil, "a holder that is no member at all")
        #expect(table.owner(ofSlot: 3) == nil, "no lease")
        #expect(table.owner(ofSlot: 99) == nil)
        #expect(table.ownedSlotCount == 1)
        #expect(table.liveShards == [a])
    }

    @Test func malformedLeaseValuesOwnNothing() {
        let table = OwnerTable(
            slotCount: 3, leases: [0: "shard-a", 1: "shard-a:x", 2: "shard-a:12"], members: [(a, 0)], nowMs: 0, memberTTLMs: 5_000)
        #expect(table.owner(ofSlot: 0) == nil)
        #expect(table.owner(ofSlot: 1) == nil)
        #expect(table.owner(ofSlot: 2)?.epoch == 12)
    }

    @Test func callsAreClassifiedByMethodAndPath() {
        #expect(ForwardPolicy.Call(method: "POST", rest: "tasks") == .submit)
        #expect(ForwardPolicy.Call(method: "POST", rest: "tasks:batch") == .submitBatch)
        #expect(ForwardPolicy.Call(method: "GET", rest: "tasks/abc") == .read)
        #expect(ForwardPolicy.Call(method: "POST", rest: "tasks/abc/cancel") == .otherWrite)
        #expect(ForwardPolicy.Call(method: "PUT", rest: "tasks") == .otherWrite)
    }

    @Test func aSubmissionIsNeverLostToAMissingOrDeadOwner() {
        for failure in [ForwardPolicy.Failure.noOwner, .notSent, .maybeSent] {
            #expect(ForwardPolicy.next(call: .submit, failure: failure, budgetLeft: true) == .writeDirectly)
        }
        #expect(ForwardPolicy.next(call: .submit, failure: .misdirected, budgetLeft: true) == .retry)
        #expect(ForwardPolicy.next(call: .submit, failure: .misdirected, budgetLeft: false) == .writeDirectly)
    }

    @Test func aNamedBatchThatMayHaveBeenWrittenIsWrittenAgainSafely() {
        // The router names every batch (X-Flux-Batch-Id): writing it again finds its items.
        for failure in [ForwardPolicy.Failure.noOwner, .notSent, .maybeSent] {
            #expect(ForwardPolicy.next(call: .submitBatch, failure: failure, budgetLeft: true) == .writeDirectly)
        }
    }

    @Test func otherCallsRetryWithinTheBudgetThenGiveUp() {
        for failure in [ForwardPolicy.Failure.noOwner, .misdirected, .notSent, .maybeSent] {
            #expect(ForwardPolicy.next(call: .read, failure: failure, budgetLeft: true) == .retry)
            #expect(ForwardPolicy.next(call: .read, failure: failure, budgetLeft: false) == .unavailable)
        }
        #expect(ForwardPolicy.next(call: .otherWrite, failure: .misdirected, budgetLeft: true) == .retry)
        #expect(ForwardPolicy.next(call: .otherWrite, failure: .notSent, budgetLeft: false) == .unavailable)
        #expect(ForwardPolicy.next(call: .otherWrite, failure: .maybeSent, budgetLeft: true) == .uncertain)
    }
}
