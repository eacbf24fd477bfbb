import Foundation
import Testing
@testable import TallyReplica

/// Changes held for review (`apply(hold:)`): counted as received, never merged or relayed,
/// and applied only when released, as a new write that takes effect over later ones.
@Suite struct HeldChangeTests {
    let schema = ChangePageTests.schema

    @Test func heldChangesCountAsReceivedButChangeNothingUntilReleased() throws {
        let folder = try TempFolder("held")
        defer { folder.remove() }
        let clock = ManualWallClock(milliseconds: testEpoch)
        let van = try Replica.create(at: folder.path("van.sqlite"), schema: schema, site: testSite(1), options: testOptions(clock))
        let depot = try Replica.create(at: folder.path("depot.sqlite"), schema: schema, site: testSite(9), options: testOptions(clock))
        try depot.write { tx in try tx.insert("tickets", key: "T1", ["route": .text("R1"), "status": .text("loaded")]) }
        try van.apply(try depot.changes(since: van.versionVector()))
        clock.advance(by: 1_000)
        // The van, on its old picture: an entry and two record changes.
        try van.write { tx in
            try tx.insert("events", key: "E1", ["route": .text("R1"), "kind": .text("deliver")])
            try tx.update("tickets", key: "T1", ["status": .text("returned")])
            try tx.delete("tickets", key: "T1")
        }
        clock.advance(by: 1_000)
        try depot.write { tx in try tx.update("tickets", key: "T1", ["status": .text("delivered")]) }
        let digest = try depot.digest()
        let own = try van.changes(since: VersionVector()).filter { $0.site == van.site }
        #expect(own.map(\.seq) == [1, 2, 3])
        let hold: (Change) -> String? = { $0.table == "events" ? nil : "stale" }

        // Sent out of order, then whole again: the ledger entry merges, the rest is held once.
        let first = try depot.apply(own.suffix(2), hold: hold)
        #expect(first.held == 2 && first.applied == 0)
        #expect(try depot.contiguousSeq(of: van.site) == 0, "seq 1 is still missing")
        let second = try depot.apply(own, hold: hold)
        #expect(second.applied == 1 && second.held == 0 && second.duplicates == 2)
        #expect(try depot.contiguousSeq(of: van.site) == 3, "held changes count as received")
        #expect(try depot.apply(own, hold: hold).duplicates == 3)
        #expect(try depot.heldCount() == 2)
        #expect(try depot.row("tickets", key: "T1")?["status"] == .text("delivered"), "not merged")
        #expect(try depot.row("events", key: "E1") != nil)
        #expect(try depot.digest() != digest, "the entry merged")
        #expect(try depot.changes(since: VersionVector()).filter { $0.site == van.site }.map(\.seq) == [1], "held changes are not relayed")

        // Released: a new depot write, over the later status; the delete is discarded.
        let held = try depot.heldChanges()
        #expect(held.map(\.reason) == ["stale", "stale"])
        let released = try #require(try depot.releaseHeld(site: van.site, seq: 2))
        #expect(released.site == depot.site, "the depot's own change, sent on to every peer in scope")
        #expect(try depot.row("tickets", key: "T1")?["status"] == .text("returned"))
        #expect(try depot.discardHeld(site: van.site, seq: 3)?.change.isDelete == true)
        #expect(try depot.heldCount() == 0)
        #expect(try depot.row("tickets", key: "T1") != nil, "the discarded delete did nothing")
        #expect(try depot.releaseHeld(site: van.site, seq: 3) == nil)
        #expect(try depot.contiguousSeq(of: van.site) == 3, "a decision does not make the van send again")
    }
    /// Found by the long simulator run: a van's old note held, its next note merged (it was set
    /// up again in between), then the old one released. The van's own later note stays.
    @Test func releasingAnOldChangeNeverUndoesItsWritersLaterOne() throws {
        let folder = try TempFolder("held-later")
        defer { folder.remove() }
        let clock = ManualWallClock(milliseconds: testEpoch)
        let van = try Replica.create(at: folder.path("van.sqlite"), schema: schema, site: testSite(1), options: testOptions(clock))
        let depot = try Replica.create(at: folder.path("depot.sqlite"), schema: schema, site: testSite(9), options: testOptions(clock))
        try depot.write { tx in try tx.insert("tickets", key: "T1", ["route": .text("R1"), "status": .text("depot")]) }
        try van.apply(try depot.changes(since: van.versionVector()))
        clock.advance(by: 1_000)
        try van.write { tx in try tx.update("tickets", key: "T1", ["status": .text("old")]) }
        clock.advance(by: 1_000)
        try van.write { tx in try tx.update("tickets", key: "T1", ["status": .text("new")]) }
        let own = try van.changes(since: VersionVector()).filter { $0.site == van.site }
        #expect(try depot.apply([own[0]], hold: { _ in "stale" }).held == 1)
        #expect(try depot.apply([own[1]]).applied == 1)
        #expect(try depot.row("tickets", key: "T1")?["status"] == .text("new"))
        #expect(try depot.releaseHeld(site: van.site, seq: 1) != nil)
        #expect(try depot.heldCount() == 0)
        #expect(try depot.row("tickets", key: "T1")?["status"] == .text("new"), "the van's later note stays")
    }
}
