import Testing

@testable import FluxShard

/// Read-ahead submissions are admitted a share of every tenant a turn: a tenant read behind a
/// flood's thousand entries is admitted in the first turn, not after them.
@Suite struct FairIntakeTests {
    static func task(_ id: String, tenant: String, slot: Int = 7) -> IngestedTask {
        IngestedTask(slot: slot, entryID: "0-\(id)", taskID: id, fields: ["tenant": tenant, "state": "QUEUED"])
    }

    @Test func aQuietTenantReadBehindAFloodIsAdmittedInTheFirstTurn() {
        var intake = FairIntake()
        for index in 0..<1_000 { intake.append(Self.task("f\(index)", tenant: "flood")) }
        intake.append(Self.task("q0", tenant: "quiet"))
        let first = intake.take(perTenant: 128)
        #expect(first.count == 129)
        #expect(first.contains { $0.taskID == "q0" })
        #expect(first.filter { $0.fields["tenant"] == "flood" }.map(\.taskID) == (0..<128).map { "f\($0)" }, "oldest first")
        #expect(intake.count == 872)
        var turns = 1
        while intake.count > 0 { _ = intake.take(perTenant: 128); turns += 1 }
        #expect(turns == 8)
    }

    @Test func anEntryReadTwiceIsHeldOnceAndDroppedSlotsLeave() {
        var intake = FairIntake()
        let first = intake.append(Self.task("a", tenant: "acme"))
        let again = intake.append(Self.task("a", tenant: "acme"))
        #expect(first && !again, "a catch-up read returns what is still pending: held once")
        intake.append(Self.task("b", tenant: "acme", slot: 9))
        intake.append(Self.task("c", tenant: "other", slot: 9))
        let dropped = intake.drop(slots: [9])
        let none = intake.drop(slots: [9])
        #expect(dropped && !none, "the driver asks for a re-read only when it dropped something")
        #expect(intake.count == 1)
        let taken = intake.take(perTenant: 10).map(\.taskID)
        #expect(taken == ["a"])
        // Taken, an id may be held again (its entry read again after a failed write).
        let reread = intake.append(Self.task("a", tenant: "acme"))
        #expect(reread)
        intake.removeAll()
        let nothing = intake.take(perTenant: 10)
        #expect(intake.count == 0 && nothing.isEmpty)
    }
}
