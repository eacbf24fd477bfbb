// Focused tests of the replica engine: one rule or one API at a time, on real SQLite files.

import Foundation
import Testing
@testable import TallyReplica

/// Replicas in one temporary folder, each with its own hand-moved wall clock.
final class Cluster {
    let folder: TempFolder
    private(set) var replicas: [Replica] = []
    private(set) var clocks: [ManualWallClock] = []
    let schema: Schema

    init(_ count: Int, schema: Schema = ReplicaTests.schema, start: UInt64 = testEpoch) throws {
        folder = try TempFolder()
        self.schema = schema
        for i in 0..<count { _ = try add(site: testSite(UInt64(i + 1)), at: start) }
    }

    /// Adds a replica with the given site id and wall clock.
    func add(site s: SiteID, at ms: UInt64) throws -> Replica {
        let clock = ManualWallClock(milliseconds: ms)
        let r = try Replica.create(at: folder.path("r\(replicas.count).tally"), schema: schema, site: s, options: testOptions(clock))
        replicas.append(r)
        clocks.append(clock)
        return r
    }

    subscript(i: Int) -> Replica { replicas[i] }

    /// Sends what `to` lacks from `from`.
    @discardableResult
    func sync(_ from: Int, _ to: Int) throws -> ApplyReport {
        try replicas[to].apply(replicas[from].changes(since: replicas[to].versionVector()))
    }

    /// Every replica ends up with every change.
    func syncAll() throws {
        for i in replicas.indices.dropFirst() { try sync(i, 0) }
        for i in replicas.indices.dropFirst() { try sync(0, i) }
    }

    func allChanges() throws -> [Change] {
        var all = Set<Change>()
        for r in replicas { all.formUnion(try r.changes(since: VersionVector())) }
        return Array(all)
    }

    deinit {
        replicas.removeAll()
        folder.remove()
    }
}

/// Writes and returns the changes recorded.
@discardableResult
func recordWrite(_ r: Replica, _ body: (WriteTransaction) throws -> Void) throws -> [Change] {
    try r.write { tx in
        try body(tx)
        return tx.changes
    }
}

/// Checks a replica against the oracle for the changes it holds.
func expectMatchesOracle(_ r: Replica, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = MergeOracle(schema: r.schema, changes: try r.changes(since: VersionVector())).state()
    for t in r.schema.tables {
        if let d = rowDifference(try r.rows(t.name, includeDeleted: true), expected.rows[t.name] ?? []) {
            Issue.record("\(t.name): \(d)", sourceLocation: sourceLocation)
        }
    }
    #expect(try r.conflicts() == expected.conflicts, sourceLocation: sourceLocation)
    #expect(try engineViolations(r) == expected.violations, sourceLocation: sourceLocation)
    #expect(try r.digest() == expected.digest, "digest against the independent computation", sourceLocation: sourceLocation)
}

@Suite("Replica engine")
struct ReplicaTests {
    static let schema = PropertyCase.schema

    // MARK: - Ledger

    @Test("a ledger row written again with the same content is a no-op, locally and remotely")
    func ledgerSameContent() throws {
        let c = try Cluster(2)
        let first = try recordWrite(c[0]) { tx in
            let created = try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5])
            let again = try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5])
            let spelledOut = try tx.insert("events", key: "e1", ["amount": 5, "kind": "scan", "sig": nil])
            #expect(created && !again)
            #expect(!spelledOut, "an explicit null is the same content")
        }
        #expect(first.count == 1)
        #expect(try recordWrite(c[0]) { tx in try tx.upsert("events", key: "e1", ["kind": "scan", "amount": 5]) }.isEmpty)
        #expect(try c[0].changeCount() == 1)
        // The same event recorded on another device, concurrently.
        c.clocks[1].advance(by: 3)
        try recordWrite(c[1]) { tx in try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5]) }
        let r1 = try c.sync(0, 1)
        let r0 = try c.sync(1, 0)
        #expect(r0.applied == 1 && r1.applied == 1)
        #expect(r0.violations.isEmpty && r1.violations.isEmpty)
        #expect(try c[0].violations().isEmpty && c[1].violations().isEmpty)
        #expect(try c[0].digest() == c[1].digest())
        #expect(try c[0].rows("events").map(\.key) == ["e1"])
        try expectMatchesOracle(c[0])
    }

    @Test("a ledger row with other content is refused locally, and the whole write rolls back")
    func ledgerLocalRefusal() throws {
        let c = try Cluster(1)
        let r = c[0]
        try recordWrite(r) { tx in try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5]) }
        let digest = try r.digest(), vv = try r.versionVector(), clock = r.clock
        let error = #expect(throws: ReplicaError.self) {
            try recordWrite(r) { tx in
                try tx.insert("events", key: "e2", ["kind": "scan", "amount": 1])
                try tx.insert("events", key: "e1", ["kind": "scan", "amount": 6])
            }
        }
        guard case .refused(let message)? = error else { Issue.record("expected .refused, got \(String(describing: error))"); return }
        #expect(message.contains("e1"))
        #expect(try r.row("events", key: "e2") == nil, "the earlier insert of the same write is rolled back")
        #expect(try r.digest() == digest && r.versionVector() == vv && r.clock == clock && r.changeCount() == 1)
        // Ledger rows never change and never go away.
        #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.update("events", key: "e1", ["amount": 6]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.delete("events", key: "e1") } }
        #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.upsert("events", key: "e1", ["amount": 6]) } }
        // The next write still gets sequence number 2: nothing of the refused ones was kept.
        let next = try recordWrite(r) { tx in try tx.insert("events", key: "e3", ["kind": "scan"]) }
        #expect(next.map(\.seq) == [2])
    }

    @Test("a remote ledger row with other content becomes a violation; the rest of the batch applies")
    func ledgerRemoteViolation() throws {
        let c = try Cluster(2)
        c.clocks[1].advance(by: 10)  // replica 1 writes later: replica 0's version is the one kept
        let early = try recordWrite(c[0]) { tx in try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5]) }[0]
        let late = try recordWrite(c[1]) { tx in
            try tx.insert("events", key: "e1", ["kind": "scan", "amount": 6])
            try tx.insert("events", key: "e2", ["kind": "cash", "amount": 100])
            try tx.upsert("parcels", key: "p1", ["note": "hello"])
        }
        #expect(late[0].hlc > early.hlc)

        // Replica 0 holds the earlier version: the incoming one is the violation.
        let report0 = try c.sync(1, 0)
        #expect(report0.applied == 3)
        #expect(report0.violations.count == 1)
        #expect(try c[0].row("events", key: "e2")?["amount"] == 100)
        #expect(try c[0].row("parcels", key: "p1")?["note"] == "hello")
        let wantHash = hexString(Canonical.contentHash(["scan", 6, .null]))
        let v0 = try #require(try c[0].violations().first)
        #expect(v0.table == "events" && v0.key == "e1")
        #expect(v0.contentHash == wantHash)
        #expect(v0.values == [ColumnValue("kind", "scan"), ColumnValue("amount", 6), ColumnValue("sig", .null)])
        #expect(v0.site == c[1].site && v0.hlc == late[0].hlc)
        #expect(report0.violations == [v0])

        // Replica 1 held the later version: the earlier one arriving takes its place.
        let report1 = try c.sync(0, 1)
        #expect(report1.applied == 1 && report1.violations.count == 1)
        #expect(try c[1].row("events", key: "e1")?["amount"] == 5)
        #expect(try c[1].violations() == c[0].violations())
        #expect(try c[0].digest() == c[1].digest())
        try expectMatchesOracle(c[0])
        try expectMatchesOracle(c[1])

        // Locally, replica 1 now refuses its own old content too: e1 is 5 everywhere.
        #expect(throws: ReplicaError.self) { try recordWrite(c[1]) { tx in try tx.insert("events", key: "e1", ["kind": "scan", "amount": 6]) } }
        #expect(try recordWrite(c[1]) { tx in try tx.insert("events", key: "e1", ["kind": "scan", "amount": 5]) }.isEmpty)
    }

    @Test("three contents for one ledger key: the earliest is the row and the two others are violations, in any order")
    func ledgerThreeContents() throws {
        let c = try Cluster(3)
        c.clocks[0].advance(by: 30)
        c.clocks[1].advance(by: 10)
        let all = try recordWrite(c[0]) { tx in try tx.insert("events", key: "k", ["kind": "a"]) }
            + recordWrite(c[1]) { tx in try tx.insert("events", key: "k", ["kind": "b"]) }
            + recordWrite(c[2]) { tx in try tx.insert("events", key: "k", ["kind": "c"]) }
        var digests = Set<String>()
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]] {
            let fresh = try c.add(site: testSite(UInt64(100 + c.replicas.count)), at: testEpoch + 50)
            for i in order { try fresh.apply([all[i]]) }
            #expect(try fresh.row("events", key: "k")?["kind"] == "c", "replica 2 wrote first")
            #expect(try fresh.violations().compactMap { $0.values.first?.value.text }.sorted() == ["a", "b"])
            try expectMatchesOracle(fresh)
            digests.insert(try fresh.digest())
        }
        #expect(digests.count == 1)
    }

    // MARK: - Delete and re-insert

    @Test("delete and a concurrent update converge to deleted, in both orders")
    func deleteWinsOverConcurrentUpdate() throws {
        let c = try Cluster(2)
        try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t1", ["label": "x"]) }
        try c.sync(0, 1)
        c.clocks[1].advance(by: 5)  // the update is later by the clock, yet the delete wins (cl 2 > 1)
        let del = try recordWrite(c[0]) { tx in try tx.delete("tags", key: "t1") }
        let upd = try recordWrite(c[1]) { tx in try tx.update("tags", key: "t1", ["label": "y"]) }
        #expect(del[0].cl == 2 && del[0].values.isEmpty && del[0].isDelete)
        #expect(upd[0].cl == 1)
        try c.sync(0, 1)
        try c.sync(1, 0)
        for r in c.replicas {
            #expect(try r.rows("tags").isEmpty)
            let row = try #require(try r.row("tags", key: "t1"))
            #expect(!row.isLive && row.causalLength == 2)
            #expect(row["label"] == "y", "registers keep merging under the tombstone")
            try expectMatchesOracle(r)
        }
        #expect(try c[0].digest() == c[1].digest())
        // A deleted row cannot be updated or deleted again, only inserted.
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.update("tags", key: "t1", ["label": "z"]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.delete("tags", key: "t1") } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.delete("parcels", key: "p1") } }
    }

    @Test("delete then re-insert converges in both orders, and a re-insert starts from blank registers")
    func deleteReinsert() throws {
        let c = try Cluster(3)
        let ins = try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t1", ["label": "x", "weight": 2, "stage": "left"]) }
        let del = try recordWrite(c[0]) { tx in try tx.delete("tags", key: "t1") }
        c.clocks[0].advance(by: 1)
        let re = try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t1", ["label": "z"]) }
        #expect(re[0].cl == 3)
        #expect(re[0].value("weight") == .null, "the new life writes null to the registers it does not set")
        #expect(re[0].value("stage") == nil, "lattices are not reset")
        // Concurrently, replica 2 deletes the row it received and re-inserts it too.
        try c[2].apply(ins)
        try c[2].apply(del)
        c.clocks[2].advance(by: 2)
        let re2 = try recordWrite(c[2]) { tx in try tx.upsert("tags", key: "t1", ["weight": 9]) }
        #expect(re2[0].cl == 3 && re2[0].value("label") == .null)
        let all = ins + del + re + re2
        var digests = Set<String>()
        for order in [all, Array(all.reversed()), [re2[0], del[0], re[0], ins[0]], [del[0], re[0], ins[0], re2[0]]] {
            let fresh = try c.add(site: testSite(UInt64(200 + c.replicas.count)), at: testEpoch + 100)
            for ch in order { try fresh.apply([ch]) }
            let row = try #require(try fresh.row("tags", key: "t1"))
            #expect(row.isLive && row.causalLength == 3)
            // re2 is the later write (clock 2 ms ahead) and set every register.
            #expect(row["label"] == .null && row["weight"] == 9 && row["stage"] == "left")
            try expectMatchesOracle(fresh)
            digests.insert(try fresh.digest())
        }
        #expect(digests.count == 1)
        // A row deleted and re-inserted can be deleted again: cl 4.
        let fresh = c.replicas.last!  // safe: the loop added replicas
        let again = try recordWrite(fresh) { tx in try tx.delete("tags", key: "t1") }
        #expect(again[0].cl == 4)
    }

    @Test("insert of a live record is refused; update of a missing one too")
    func recordInsertUpdateRules() throws {
        let c = try Cluster(1)
        try recordWrite(c[0]) { tx in try tx.insert("parcels", key: "p1", ["note": "a"]) }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.insert("parcels", key: "p1", ["note": "b"]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p2", ["note": "b"]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.insert("parcels", key: "", ["note": "b"]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.insert("nope", key: "x", [:]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p1", ["nope": 1]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p1", ["count": "text"]) } }
        try recordWrite(c[0]) { tx in try tx.upsert("parcels", key: "p1", ["count": 3]) }
        let row = try #require(try c[0].row("parcels", key: "p1"))
        #expect(row["note"] == "a" && row["count"] == 3 && row["status"] == .null)
        #expect(try c[0].changeCount() == 2)
    }

    // MARK: - Registers

    @Test("concurrent register writes: the greatest (hlc, site) wins, ties broken by site id")
    func registerTieBreak() throws {
        let c = try Cluster(0)
        let low = try c.add(site: SiteID(high: 1, low: 0xFFFF), at: testEpoch)
        let high = try c.add(site: SiteID(high: 2, low: 0), at: testEpoch)  // same wall clock: equal hlcs
        let a = try recordWrite(low) { tx in try tx.upsert("parcels", key: "p", ["note": "from-low", "count": 1]) }
        let b = try recordWrite(high) { tx in try tx.upsert("parcels", key: "p", ["note": "from-high"]) }
        #expect(a[0].hlc == b[0].hlc, "both wrote at the same clock value")
        try c.sync(0, 1)
        try c.sync(1, 0)
        for r in c.replicas {
            let row = try #require(try r.row("parcels", key: "p"))
            #expect(row["note"] == "from-high", "the larger site id wins a tie")
            #expect(row["count"] == 1, "columns merge one by one")
            try expectMatchesOracle(r)
        }
        // A later clock beats a larger site id.
        c.clocks[0].advance(by: 1)
        try recordWrite(low) { tx in try tx.update("parcels", key: "p", ["note": "later"]) }
        try c.sync(0, 1)
        #expect(try high.row("parcels", key: "p")?["note"] == "later")
        #expect(try low.digest() == high.digest())
    }

    // MARK: - Lattices

    @Test("a lattice column only moves up locally")
    func latticeRefusesBackward() throws {
        let c = try Cluster(1)
        let r = c[0]
        try recordWrite(r) { tx in try tx.insert("parcels", key: "p1", ["status": "delivered"]) }
        for back in ["planned", "loaded", "attempted", "refused"] {
            let e = #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.update("parcels", key: "p1", ["status": .text(back)]) } }
            if case .refused? = e {} else { Issue.record("moving delivered to \(back): expected .refused, got \(String(describing: e))") }
        }
        #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.update("parcels", key: "p1", ["status": "lost"]) } }
        #expect(throws: ReplicaError.self) { try recordWrite(r) { tx in try tx.update("parcels", key: "p1", ["status": nil]) } }
        #expect(try recordWrite(r) { tx in try tx.update("parcels", key: "p1", ["status": "delivered"]) }.count == 1, "staying put is allowed")
        try recordWrite(r) { tx in try tx.upsert("parcels", key: "p1", ["status": "closed"]) }
        #expect(try r.row("parcels", key: "p1")?["status"] == "closed")
        // A remote lower value merges as a no-op instead of being refused.
        let stale = Change(table: "parcels", key: "p1", cl: 1, values: [ColumnValue("status", "loaded")],
                           hlc: HLC(milliseconds: testEpoch + 1, counter: 0), site: testSite(9), seq: 1)
        let report = try r.apply([stale])
        #expect(report.applied == 1)
        #expect(try r.row("parcels", key: "p1")?["status"] == "closed")
    }

    @Test("incomparable lattice values open a conflict; a value above both resolves it everywhere")
    func latticeConflict() throws {
        let c = try Cluster(2)
        try recordWrite(c[0]) { tx in try tx.insert("parcels", key: "p1", ["status": "attempted"]) }
        try c.sync(0, 1)
        try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p1", ["status": "refused"]) }
        try recordWrite(c[1]) { tx in try tx.update("parcels", key: "p1", ["status": "delivered"]) }
        let r1 = try c.sync(0, 1)
        let r0 = try c.sync(1, 0)
        #expect(r0.conflictsOpened == 1 && r1.conflictsOpened == 1)
        let want = [ConflictRecord(table: "parcels", key: "p1", column: "status", values: ["delivered", "refused"])]
        for r in c.replicas {
            #expect(try r.conflicts() == want)
            #expect(try r.row("parcels", key: "p1")?["status"] == "delivered", "the first in declaration order is shown")
            try expectMatchesOracle(r)
        }
        #expect(try c[0].digest() == c[1].digest())
        // Nothing below the pair may be written, nor one side of it.
        for v in ["attempted", "delivered", "refused"] {
            #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p1", ["status": .text(v)]) } }
        }
        try recordWrite(c[0]) { tx in try tx.update("parcels", key: "p1", ["status": "closed", "note": "settled by the depot"]) }
        #expect(try c[0].conflicts().isEmpty)
        let r2 = try c.sync(0, 1)
        #expect(r2.conflictsOpened == 0)
        for r in c.replicas {
            #expect(try r.conflicts().isEmpty)
            #expect(try r.row("parcels", key: "p1")?["status"] == "closed")
            try expectMatchesOracle(r)
        }
        #expect(try c[0].digest() == c[1].digest())
    }

    @Test("a conflict in an order without a top stays open, identically on every replica")
    func latticeConflictWithoutTop() throws {
        let c = try Cluster(3)
        try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t", ["stage": "right"]) }
        try recordWrite(c[1]) { tx in try tx.insert("tags", key: "t", ["stage": "left"]) }
        try recordWrite(c[2]) { tx in try tx.insert("tags", key: "t", ["stage": "new"]) }
        try c.syncAll()
        for r in c.replicas {
            #expect(try r.conflicts() == [ConflictRecord(table: "tags", key: "t", column: "stage", values: ["left", "right"])])
            #expect(try r.row("tags", key: "t")?["stage"] == "left")
            try expectMatchesOracle(r)
        }
        #expect(Set(try c.replicas.map { try $0.digest() }).count == 1)
        // Deleting the row keeps the conflict (and it is in the digest): a re-insert must still resolve it.
        try recordWrite(c[0]) { tx in try tx.delete("tags", key: "t") }
        #expect(try c[0].conflicts().count == 1)
        #expect(throws: ReplicaError.self) { try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t", ["stage": "left"]) } }
    }

    // MARK: - Bad input

    static func badChanges() -> [(String, Change, (ReplicaError) -> Bool)] {
        let h = HLC(milliseconds: testEpoch, counter: 0)
        let s = testSite(7)
        func ch(_ t: String = "parcels", key: String = "p1", cl: Int64 = 1, v: [ColumnValue] = [ColumnValue("note", "x")],
                hlc: HLC = h, seq: UInt64 = 2) -> Change {
            Change(table: t, key: key, cl: cl, values: v, hlc: hlc, site: s, seq: seq)
        }
        func mismatch(_ e: ReplicaError) -> Bool { if case .schemaMismatch = e { true } else { false } }
        func invalid(_ e: ReplicaError) -> Bool { if case .invalidChange = e { true } else { false } }
        return [
            ("unknown table", ch("nope"), mismatch),
            ("unknown column", ch(v: [ColumnValue("nope", "x")]), mismatch),
            ("text in an integer column", ch(v: [ColumnValue("count", "3")]), mismatch),
            ("integer in a text column", ch(v: [ColumnValue("note", 3)]), mismatch),
            ("blob in a text column", ch(v: [ColumnValue("note", .blob([1]))]), mismatch),
            ("lattice value not in the order", ch(v: [ColumnValue("status", "lost")]), mismatch),
            ("null lattice value", ch(v: [ColumnValue("status", .null)]), mismatch),
            ("ledger text in its integer column", ch("events", v: [ColumnValue("amount", "5")]), mismatch),
            ("empty key", ch(key: ""), invalid),
            ("sequence 0", ch(seq: 0), invalid),
            ("sequence beyond 40 bits", ch(seq: 1 << 40), invalid),
            ("hlc 0", ch(hlc: .zero), invalid),
            ("hlc 1 (the conflict marker)", ch(hlc: HLC(rawValue: 1)), invalid),
            ("causal length 0", ch(cl: 0), invalid),
            ("negative causal length", ch(cl: -1), invalid),
            ("delete of a non-deletable table", ch(cl: 2, v: []), invalid),
            ("delete that sets columns", ch("tags", cl: 2, v: [ColumnValue("label", "x")]), invalid),
            ("ledger row without content", ch("events", v: []), invalid),
            ("ledger row with causal length 3", ch("events", cl: 3, v: [ColumnValue("kind", "x")]), invalid),
            ("a column set twice", ch(v: [ColumnValue("note", "x"), ColumnValue("note", "y")]), invalid),
        ]
    }

    @Test("a bad change refuses the whole batch and changes nothing", arguments: 0..<ReplicaTests.badChanges().count)
    func badInput(index: Int) throws {
        let (what, bad, kind) = Self.badChanges()[index]
        let c = try Cluster(1)
        let r = c[0]
        try recordWrite(r) { tx in
            try tx.insert("parcels", key: "p1", ["note": "mine"])
            try tx.insert("events", key: "e1", ["kind": "scan"])
        }
        let before = (try r.digest(), try r.versionVector(), r.clock, try r.changeCount(), try r.status().conflicts)
        let good = Change(table: "parcels", key: "p2", cl: 1, values: [ColumnValue("note", "fine")],
                          hlc: HLC(milliseconds: testEpoch, counter: 5), site: testSite(7), seq: 1)
        let error = #expect(throws: ReplicaError.self, "\(what)") { try r.apply([good, bad]) }
        if let error { #expect(kind(error), "\(what): unexpected error kind \(error)") }
        #expect(try r.digest() == before.0, "\(what)")
        #expect(try r.versionVector() == before.1, "\(what)")
        #expect(r.clock == before.2, "\(what)")
        #expect(try r.changeCount() == before.3, "\(what)")
        #expect(try r.row("parcels", key: "p2") == nil, "\(what)")
        // The good change alone applies afterwards, and the site registered for it is consistent.
        #expect(try r.apply([good]).applied == 1)
        #expect(try r.versionVector()[testSite(7)] == 1)
        try expectMatchesOracle(r)
    }

    @Test("apply of an empty batch is a no-op")
    func emptyApply() throws {
        let c = try Cluster(1)
        #expect(try c[0].apply([]) == ApplyReport())
        #expect(try c[0].changeCount() == 0)
    }

    // MARK: - Deltas

    @Test("changes(since:limit:) pages through a delta; every page moves the receiver on")
    func paging() throws {
        let c = try Cluster(3)
        for batch in 0..<3 {
            try recordWrite(c[0]) { tx in
                for i in 0..<7 { try tx.insert("events", key: "a\(batch)-\(i)", ["kind": "scan", "amount": .integer(Int64(i))]) }
            }
            c.clocks[0].advance(by: 1)
        }
        try recordWrite(c[2]) { tx in for i in 0..<5 { try tx.upsert("parcels", key: "c\(i)", ["count": .integer(Int64(i))]) } }
        try c.sync(2, 0)
        #expect(try c[0].changeCount() == 26)
        // A page holds at most `limit` changes, ordered by site then sequence.
        let all = try c[0].changes(since: VersionVector())
        #expect(all.count == 26)
        let sites = all.map(\.site)
        #expect(sites == sites.sorted())
        for s in Set(sites) { #expect(all.filter { $0.site == s }.map(\.seq) == Array(1...UInt64(all.filter { $0.site == s }.count))) }
        var pages: [[Change]] = []
        while true {
            let page = try c[0].changes(since: c[1].versionVector(), limit: 4)
            if page.isEmpty { break }
            #expect(page.count <= 4)
            let report = try c[1].apply(page)
            #expect(report.applied == page.count && report.duplicates == 0)
            pages.append(page)
            if pages.count > 20 { Issue.record("paging does not end"); break }
        }
        #expect(pages.count == 7)
        #expect(pages.flatMap { $0 } == all)
        #expect(try c[1].versionVector() == c[0].versionVector())
        #expect(try c[1].digest() == c[0].digest())
        // Exactly what lies above a vector.
        var vv = VersionVector()
        vv[c[0].site] = 18
        let rest = try c[0].changes(since: vv)
        #expect(rest.count == 3 + 5)
        #expect(rest.filter { $0.site == c[0].site }.map(\.seq) == [19, 20, 21])
        #expect(try c[0].changes(since: c[0].versionVector()).isEmpty)
    }

    @Test("a gap in what a replica holds: the version vector stops at the gap, and a later delta fills it")
    func gaps() throws {
        let c = try Cluster(2)
        let changes = try (0..<5).flatMap { i in try recordWrite(c[0]) { tx in try tx.insert("events", key: "e\(i)", ["kind": "scan"]) } }
        try c[1].apply([changes[0], changes[3], changes[4]])
        #expect(try c[1].versionVector()[c[0].site] == 1)
        let delta = try c[0].changes(since: c[1].versionVector())
        #expect(delta.map(\.seq) == [2, 3, 4, 5])
        let report = try c[1].apply(delta)
        #expect(report.applied == 2 && report.duplicates == 2)
        #expect(try c[1].versionVector()[c[0].site] == 5)
        // The receiver can serve the changes it holds beyond a gap.
        let other = try c.add(site: testSite(50), at: testEpoch)
        try other.apply([changes[2]])
        #expect(try other.changes(since: VersionVector()).map(\.seq) == [3])
        #expect(try other.versionVector()[c[0].site] == 0)
    }

    // MARK: - Blobs

    @Test("blobs are stored once under their SHA-256")
    func blobs() throws {
        let c = try Cluster(1)
        let r = c[0]
        let bytes: [UInt8] = Array("signature image".utf8)
        let h1 = try r.putBlob(bytes)
        let h2 = try r.putBlob(bytes)
        #expect(h1 == h2)
        #expect(h1 == hexString(SHA256Reference.hash(bytes)))
        #expect(try r.status().blobs == 1 && r.status().blobBytes == Int64(bytes.count))
        #expect(try r.hasBlob(h1) && r.hasBlob(h1.uppercased()))
        #expect(try r.blob(h1) == bytes)
        let empty = try r.putBlob([])
        #expect(empty == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try r.blob(empty) == [])
        let other = hexString(SHA256Reference.hash([1, 2, 3]))
        #expect(try r.missingBlobs(of: [h1, other, h1, other.uppercased(), empty, "zz"]) == [other, "zz"])
        #expect(try !r.hasBlob(other) && r.blob(other) == nil && r.blob("not a hash") == nil)
        // Bytes received for a hash must hash to it.
        let e = #expect(throws: ReplicaError.self) { try r.putBlob([9, 9], expecting: other) }
        if case .invalidChange? = e {} else { Issue.record("expected .invalidChange, got \(String(describing: e))") }
        #expect(try !r.hasBlob(other))
        try r.putBlob([1, 2, 3], expecting: other.uppercased())
        #expect(try r.hasBlob(other) && r.missingBlobs(of: [other]).isEmpty)
        #expect(try r.status().blobs == 3)
        // Blobs are not part of the row digest or the change log.
        #expect(try r.changeCount() == 0)
    }

    // MARK: - Files

    @Test("reopening keeps the site id, version vector, rows, conflicts and sequence")
    func reopen() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.path("van.tally")
        let wall = ManualWallClock(milliseconds: testEpoch)
        var before: (site: SiteID, vv: VersionVector, digest: String, rows: [Row], conflicts: [ConflictRecord], status: ReplicaStatus)
        do {
            let r = try Replica.create(at: path, schema: Self.schema, site: testSite(42), options: testOptions(wall))
            try recordWrite(r) { tx in
                try tx.insert("events", key: "e1", ["kind": "scan", "amount": 1, "sig": .blob([0, 1, 2])])
                try tx.insert("parcels", key: "p1", ["note": "ünïcode", "count": .integer(.min), "status": "delivered"])
                try tx.insert("tags", key: "t1", ["label": "x"])
                try tx.delete("tags", key: "t1")
            }
            try r.apply([Change(table: "parcels", key: "p1", cl: 1, values: [ColumnValue("status", "refused")],
                                hlc: HLC(milliseconds: testEpoch, counter: 9), site: testSite(7), seq: 1)])
            before = (r.site, try r.versionVector(), try r.digest(), try r.rows("parcels", includeDeleted: true) + r.rows("tags", includeDeleted: true),
                      try r.conflicts(), try r.status())
            #expect(throws: ReplicaError.self) { try Replica.create(at: path, schema: Self.schema, options: testOptions(wall)) }
        }
        let r = try Replica.open(at: path, options: testOptions(wall))
        #expect(r.site == testSite(42) && r.site == before.site)
        #expect(try r.versionVector() == before.vv)
        #expect(try r.digest() == before.digest)
        #expect(try r.rows("parcels", includeDeleted: true) + r.rows("tags", includeDeleted: true) == before.rows)
        #expect(try r.conflicts() == before.conflicts && before.conflicts.count == 1)
        #expect(try r.status() == before.status)
        #expect(try r.row("events", key: "e1")?["sig"] == .blob([0, 1, 2]))
        #expect(try r.row("parcels", key: "p1")?["count"] == .integer(.min))
        let next = try recordWrite(r) { tx in try tx.insert("events", key: "e2", ["kind": "scan"]) }
        #expect(next.map(\.seq) == [5])
        try expectMatchesOracle(r)
        #expect(throws: ReplicaError.self) { try Replica.open(at: folder.path("missing.tally"), options: testOptions(wall)) }
    }

    @Test("status summarises the replica")
    func status() throws {
        let c = try Cluster(1)
        try recordWrite(c[0]) { tx in
            try tx.insert("events", key: "e1", ["kind": "scan"])
            try tx.insert("tags", key: "t1", ["label": "x"])
            try tx.insert("tags", key: "t2", ["label": "y"])
            try tx.delete("tags", key: "t2")
        }
        let s = try c[0].status()
        #expect(s.site == testSite(1).hex && s.schemaVersion == 1 && s.changes == 4)
        #expect(s.tables.first { $0.table == "tags" } == .init(table: "tags", kind: "record", live: 1, deleted: 1))
        #expect(s.tables.first { $0.table == "events" } == .init(table: "events", kind: "ledger", live: 1, deleted: 0))
        #expect(s.digest == (try c[0].digest()) && s.clock == c[0].clock.hex)
        #expect(s.versionVector[testSite(1)] == 4)
    }

    @Test("select runs only queries that read: a statement that would write is refused and changes nothing")
    func selectReadsOnly() throws {
        let c = try Cluster(1)
        try recordWrite(c[0]) { tx in try tx.insert("tags", key: "t1", ["label": "x"]) }
        let before = try c[0].digest()
        for sql in ["DELETE FROM tags", "UPDATE tags SET label = 'y'", "DROP TABLE tags", "INSERT INTO tally_meta(name, value) VALUES ('x.a', 'b')"] {
            #expect(throws: ReplicaError.self, "\(sql)") { try c[0].select(sql) { _ in } }
        }
        #expect(try c[0].digest() == before && c[0].setting("a") == nil)
        var labels: [String] = []
        try c[0].select("SELECT label FROM tags WHERE tally_cl % 2 = 1") { labels.append($0[0].text ?? "") }
        #expect(labels == ["x"])
    }

    @Test("a schema upgrade appends columns and tables; older replicas keep merging")
    func schemaUpgrade() throws {
        let v1 = try Schema(version: 1, tables: [
            TableSchema("parcels", kind: .record, columns: [ColumnSchema("note", .text)]),
        ])
        let v2 = try Schema(version: 2, tables: [
            TableSchema("parcels", kind: .record, columns: [ColumnSchema("note", .text), ColumnSchema("weight", .integer)]),
            TableSchema("stops", kind: .ledger, columns: [ColumnSchema("at", .text)]),
        ])
        #expect(v2.extends(v1) && !v1.extends(v2))
        let folder = try TempFolder()
        defer { folder.remove() }
        let wall = ManualWallClock(milliseconds: testEpoch)
        let path = folder.path("up.tally")
        do {
            let r = try Replica.create(at: path, schema: v1, site: testSite(1), options: testOptions(wall))
            try recordWrite(r) { tx in try tx.insert("parcels", key: "p1", ["note": "old"]) }
        }
        let old = try Replica.create(at: folder.path("old.tally"), schema: v1, site: testSite(2), options: testOptions(wall))
        let up = try Replica.open(at: path, schema: v2, options: testOptions(wall))
        #expect(up.schema == v2)
        let row = try #require(try up.row("parcels", key: "p1"))
        #expect(row.values == [ColumnValue("note", "old"), ColumnValue("weight", .null)])
        wall.advance(by: 1)
        let newer = try recordWrite(up) { tx in
            try tx.update("parcels", key: "p1", ["weight": 5])
            try tx.insert("stops", key: "s1", ["at": "depot"])
        }
        #expect(try up.row("parcels", key: "p1")?["note"] == "old")
        // An old replica takes the old change, but refuses a batch naming the new column.
        #expect(try old.apply(up.changes(since: VersionVector()).filter { $0.seq == 1 }).applied == 1)
        #expect(throws: ReplicaError.self) { try old.apply(newer) }
        // Old changes keep merging into the upgraded replica.
        let fromOld = try recordWrite(old) { tx in try tx.update("parcels", key: "p1", ["note": "edited on an old van"]) }
        try up.apply(fromOld)
        #expect(try up.row("parcels", key: "p1")?.values == [ColumnValue("note", "edited on an old van"), ColumnValue("weight", 5)])
        try expectMatchesOracle(up)
        // Reopening without a schema uses the stored (upgraded) one; a schema that is not an
        // extension is refused.
        let again = try Replica.open(at: path, options: testOptions(wall))
        #expect(again.schema == v2)
        #expect(try again.digest() == up.digest())
        let renamed = try Schema(version: 3, tables: [
            TableSchema("parcels", kind: .record, columns: [ColumnSchema("label", .text), ColumnSchema("weight", .integer)]),
        ])
        let e = #expect(throws: ReplicaError.self) { try Replica.open(at: path, schema: renamed, options: testOptions(wall)) }
        if case .incompatibleSchema? = e {} else { Issue.record("expected .incompatibleSchema, got \(String(describing: e))") }
        #expect(throws: ReplicaError.self) { try Replica.open(at: path, schema: v1, options: testOptions(wall)) }
    }

    @Test("schemas are validated")
    func schemaValidation() {
        #expect(throws: SchemaError.self) { try Schema(version: 1, tables: [TableSchema("Bad", kind: .record, columns: [])]) }
        #expect(throws: SchemaError.self) { try Schema(version: 1, tables: [TableSchema("tally_x", kind: .record, columns: [])]) }
        #expect(throws: SchemaError.self) {
            try Schema(version: 1, tables: [TableSchema("a", kind: .ledger, deletable: true, columns: [])])
        }
        #expect(throws: SchemaError.self) {
            try Schema(version: 1, tables: [TableSchema("a", kind: .record, columns: [ColumnSchema("x", .text), ColumnSchema("x", .integer)])])
        }
        #expect(throws: SchemaError.self) {
            try Schema(version: 1, tables: [TableSchema("a", kind: .record, columns: [ColumnSchema("id", .text)])])
        }
        #expect(throws: SchemaError.self) { try PartialOrder(values: ["a", "b"], covers: [("a", "b"), ("b", "a")]) }
        #expect(throws: SchemaError.self) { try PartialOrder(values: ["a", "a"], covers: []) }
        #expect(throws: SchemaError.self) { try PartialOrder(values: ["a"], covers: [("a", "z")]) }
        #expect(throws: SchemaError.self) {
            let o = try PartialOrder(values: ["a", "b"], covers: [("a", "b")])
            return try Schema(version: 1, tables: [TableSchema("a", kind: .record, columns: [ColumnSchema("s", .integer, .lattice(o))])])
        }
    }

    @Test("Change round-trips through JSON with hex hlc and site")
    func changeJSON() throws {
        let ch = Change(table: "events", key: "e1", cl: 1,
                        values: [ColumnValue("sig", .blob([0, 255])), ColumnValue("amount", -5), ColumnValue("kind", "scan"), ColumnValue("note", nil)],
                        hlc: HLC(milliseconds: testEpoch, counter: 3), site: testSite(3), seq: 12)
        #expect(ch.values.map(\.column) == ["amount", "kind", "note", "sig"], "values are sorted by column")
        let data = try JSONEncoder().encode(ch)
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(obj["hlc"] as? String == ch.hlc.hex)
        #expect(obj["site"] as? String == testSite(3).hex)
        #expect(try JSONDecoder().decode(Change.self, from: data) == ch)
        let bad = String(decoding: data, as: UTF8.self).replacingOccurrences(of: ch.hlc.hex, with: "xyz")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Change.self, from: Data(bad.utf8)) }
    }
}
