import Foundation
import GRDB
import Testing
@testable import TallyReplica

/// `changePage(owner:skipping:)`: the change log's owner index gives a peer exactly what a
/// scan of every change filtered the same way gives it.
@Suite struct ChangePageTests {
    static let schema: Schema = {
        do {
            return try Schema(version: 1, tables: [
                TableSchema("tickets", kind: .record, deletable: true, columns: [
                    ColumnSchema("route", .text), ColumnSchema("status", .text), ColumnSchema("amount", .integer),
                ]),
                TableSchema("events", kind: .ledger, columns: [ColumnSchema("route", .text), ColumnSchema("kind", .text)]),
                TableSchema("products", kind: .record, columns: [ColumnSchema("name", .text)]),
                // Two owner columns: owned by the first in precedence (route).
                TableSchema("handovers", kind: .record, columns: [ColumnSchema("route", .text), ColumnSchema("window", .text)]),
            ])
        } catch { fatalError("\(error)") }
    }()

    /// The depot's read rule, written again: a table with one owner column is read by that
    /// owner (the change's value, else the stored row's); other tables by everyone.
    static func canRead(_ c: Change, route: String, rows: RowReader) throws -> Bool {
        switch c.table {
        case "tickets", "events":
            if let v = c.value("route") { return v.text == route }
            return try rows.row(c.table, key: c.key)?["route"].text == route
        case "handovers":
            if let v = c.value("route") { return v.text == route }
            return try rows.row(c.table, key: c.key)?["route"].text == route
        default: return true
        }
    }

    /// Every page until `more` is false: the changes served and the last cursor.
    static func drain(_ r: Replica, route: String, own: SiteID?, indexed: Bool, limit: Int) throws -> ([Change], VersionVector) {
        var cursor = VersionVector()
        var out: [Change] = []
        for _ in 0..<10_000 {
            let page = try r.changePage(after: cursor, limit: limit, owners: indexed ? [route] : nil, skipping: indexed ? own : nil) { c, rows in
                try c.site != own && canRead(c, route: route, rows: rows)
            }
            out += page.changes
            cursor = page.cursor
            if !page.more { return (out, cursor) }
        }
        throw ReplicaError.storage("pages never ended")
    }

    /// Sites write tickets (created with a route, moved without it), ledger events, reference
    /// rows and two-owner rows; the depot merges them in random batches and writes some itself.
    static func fill(_ depot: Replica, seed: UInt64, folder: TempFolder, clock: ManualWallClock) throws -> [SiteID] {
        var rng = SeededRandom(seed: seed)
        let routes = ["R1", "R2", "R3"]
        var sites: [Replica] = []
        for k in 0..<4 {
            sites.append(try Replica.create(at: folder.path("site\(k).sqlite"), schema: schema, site: testSite(UInt64(k + 1)), options: testOptions(clock)))
        }
        var pending: [[Change]] = Array(repeating: [], count: sites.count)
        var acked: [UInt64] = Array(repeating: 0, count: sites.count)
        for step in 0..<300 {
            clock.advance(by: 7)
            let k = rng.int(0..<sites.count)
            let route = routes[k % routes.count]
            try sites[k].write { tx in
                let t = "T\(k)-\(rng.int(0..<15))"
                if try tx.row("tickets", key: t) == nil {
                    _ = try tx.insert("tickets", key: t, ["route": .text(route), "status": "new", "amount": .integer(Int64(step))])
                } else {
                    try tx.update("tickets", key: t, ["status": .text("s\(step)")])
                }
                _ = try tx.insert("events", key: "E\(k)-\(step)", ["route": .text(route), "kind": "scan"])
                if rng.chance(0.1) { try tx.upsert("products", key: "P\(rng.int(0..<5))", ["name": .text("n\(step)")]) }
                if rng.chance(0.1) { try tx.upsert("handovers", key: "H\(k)", ["route": .text(route), "window": "W1"]) }
            }
            if rng.chance(0.2) {
                let changes = try sites[k].ownChanges(after: acked[k], limit: 1_000)
                pending[k] += changes
                acked[k] = changes.last?.seq ?? acked[k]
                // Batches applied whole, in order per site (as pushes are).
                try depot.apply(pending[k])
                pending[k] = []
            }
            if step % 50 == 0 {
                try depot.write { tx in
                    try tx.upsert("tickets", key: "D-\(step)", ["route": .text(routes[step % 3]), "status": "planned"])
                    try tx.upsert("products", key: "P-D\(step)", ["name": "depot"])
                }
            }
        }
        for (k, s) in sites.enumerated() {
            try depot.apply(try s.ownChanges(after: acked[k], limit: 100_000))
        }
        return sites.map(\.site)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func theOwnerIndexServesWhatAFullScanServes(seed: UInt64) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let clock = ManualWallClock(milliseconds: testEpoch)
        var options = testOptions(clock)
        options.scopeColumns = ["route", "window"]
        let depot = try Replica.create(at: folder.path("depot.sqlite"), schema: Self.schema, options: options)
        let sites = try Self.fill(depot, seed: seed, folder: folder, clock: clock)
        try Self.compare(depot, sites: sites)
    }

    /// A file written without owner columns, opened with them: the owners are computed from
    /// the stored rows and the index serves the same.
    @Test func aReplicaOpenedWithScopeColumnsIndexesItsExistingLog() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let clock = ManualWallClock(milliseconds: testEpoch)
        let path = folder.path("depot.sqlite")
        var depot: Replica? = try Replica.create(at: path, schema: Self.schema, options: testOptions(clock))
        let sites = try Self.fill(depot!, seed: 9, folder: folder, clock: clock)  // safe: just made
        // Without scope columns every owner is NULL: everything is examined, nothing lost.
        try Self.compare(depot!, sites: sites)  // safe: just made
        try depot?.close()
        depot = nil
        var options = testOptions(clock)
        options.scopeColumns = ["route", "window"]
        let reopened = try Replica.open(at: path, options: options)
        try Self.compare(reopened, sites: sites)
        // Owners recorded for the route tables; none for the reference and two-owner tables.
        let unowned = try reopened.withRead { db, _ in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_log WHERE sc IS NULL AND tbl IN (0, 1)") ?? -1
        }
        #expect(unowned == 0)
        // Opened again without saying: the stored choice holds.
        try reopened.close()
        let again = try Replica.open(at: path, options: testOptions(clock))
        #expect(again.engine.scopeColumns == ["route", "window"])
        try Self.compare(again, sites: sites)
    }

    /// A table shared under one owner token (a depot's service tables, which every window
    /// reads): reopened with it, its log rows move under the token, and a peer that asks for its
    /// own owner and the token gets what a full scan gives.
    @Test func aSharedTableIsServedUnderItsOwnerToken() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let clock = ManualWallClock(milliseconds: testEpoch)
        let path = folder.path("depot.sqlite")
        var options = testOptions(clock)
        options.scopeColumns = ["route", "window"]
        var depot: Replica? = try Replica.create(at: path, schema: Self.schema, options: options)
        let sites = try Self.fill(depot!, seed: 5, folder: folder, clock: clock)  // safe: just made
        try depot?.close()
        depot = nil
        options.sharedOwners = ["handovers": "*hall"]
        let reopened = try Replica.open(at: path, options: options)
        let owners = try reopened.withRead { db, _ in try String?.fetchAll(db, sql: "SELECT DISTINCT sc FROM tally_log WHERE tbl = 3") }
        #expect(owners == ["*hall"])
        func read(_ c: Change, _ route: String, _ rows: RowReader) throws -> Bool {
            c.table == "handovers" ? true : try Self.canRead(c, route: route, rows: rows)
        }
        for route in ["R1", "R2", "R9"] {
            for own in [nil, sites[0]] {
                var pages: [[Change]] = []
                for owners in [nil, [route, "*hall"]] {
                    var cursor = VersionVector(), out: [Change] = []
                    while true {
                        let page = try reopened.changePage(after: cursor, limit: 9, owners: owners, skipping: own) { c, rows in
                            try c.site != own && read(c, route, rows)
                        }
                        out += page.changes
                        cursor = page.cursor
                        if !page.more { break }
                    }
                    pages.append(out)
                }
                #expect(pages[0] == pages[1], "route \(route): \(pages[0].count) scanned, \(pages[1].count) through the index")
                #expect(pages[1].contains { $0.table == "handovers" })
            }
        }
    }

    static func compare(_ depot: Replica, sites: [SiteID]) throws {
        for route in ["R1", "R2", "R3", "R9"] {
            for own in [nil] + sites.map(Optional.some) {
                for limit in [7, 10_000] {
                    let (scanned, c1) = try drain(depot, route: route, own: own, indexed: false, limit: limit)
                    let (indexed, c2) = try drain(depot, route: route, own: own, indexed: true, limit: limit)
                    #expect(scanned == indexed, "route \(route), own \(own?.hex ?? "-"), limit \(limit): \(scanned.count) vs \(indexed.count)")
                    #expect(c1 == c2)
                    #expect(c1 == (try depot.versionVector()))
                    #expect(Set(indexed).count == indexed.count, "no change served twice")
                    if route == "R9" { #expect(indexed.allSatisfy { $0.table == "products" }) }
                }
            }
        }
    }
}
