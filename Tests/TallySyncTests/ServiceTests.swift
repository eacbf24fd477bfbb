import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// The protocol through `DepotService.handle`, without sockets: paging, cursors, scope,
/// replays and blobs, where a process would only add time.
@Suite struct ServiceTests {
    static func events(_ d: ServiceHarness.Device, _ n: Int, prefix: String, route: String? = nil) throws {
        let key = try DeviceKey.stored(in: d.replica)
        try d.replica.write { tx in
            for i in 0..<n {
                try EventChain.insert(tx, id: "\(prefix)-\(i)",
                                      ["route": .text(route ?? d.scope ?? ""), "kind": .text("scan"), "amount": .integer(Int64(i))],
                                      key: key)
            }
        }
    }

    @Test func pullPagesFollowTheCursorToTheEnd() throws {
        let h = try ServiceHarness(schema: ServiceHarness.routeSchemaWithoutOwnership)
        let a = try h.device("van-a", scope: "R07")
        let b = try h.device("van-b", scope: "R07")
        let c = try h.device("van-c", scope: "R08")
        let acct = try h.device("accounts", role: .accountant)
        try Self.events(a, 25, prefix: "EV-a")
        try a.replica.write { tx in
            for i in 1...3 { try tx.insert("tickets", key: "R07-T\(i)", ["route": .text("R07"), "status": .text("planned")]) }
            try tx.update("tickets", key: "R07-T1", ["status": .text("loaded")])
            try tx.update("tickets", key: "R07-T2", ["note": .text("后门")])
        }
        try Self.events(c, 10, prefix: "EV-c")
        #expect(try h.pushAll(a).ack == 30)
        #expect(try h.pushAll(c).ack == 10)
        let aChanges = try a.replica.ownChanges(after: 0, limit: 100)

        // van-b, four at a time: every page at most four, `more` until the last, no change twice.
        let (pages, cursor) = try h.pullAll(b, limit: 4)
        #expect(pages.count == 8, "30 changes in pages of 4: \(pages.map(\.changes.count))")
        #expect(pages.dropLast().allSatisfy { $0.changes.count == 4 && $0.more })
        #expect(pages.last?.more == false)
        let pulled = pages.flatMap(\.changes)
        #expect(pulled == aChanges, "in the writer's order, none skipped, none twice")
        #expect(pages.allSatisfy { $0.ack == 0 }, "van-b pushed nothing")
        var previous = VersionVector()
        for p in pages {
            #expect(p.cursor.dominates(previous), "the cursor only moves forward")
            previous = p.cursor
        }
        #expect(try ScopedState.of(b.replica) == (try ScopedState.of(h.depot, route: "R07")))
        // The cursor covers van-c's changes too (examined, not served), so nothing is left.
        #expect(cursor[c.replica.site] == 10)
        let after = try h.pull(b, cursor: cursor, limit: 4)
        #expect(after.changes.isEmpty && !after.more)

        // van-c sees nothing of R07, and not its own changes back; its ack is its count.
        let cPage = try h.pull(c, cursor: VersionVector(), limit: 100)
        #expect(cPage.changes.isEmpty && !cPage.more && cPage.ack == 10)
        // The accountant reads everything.
        let (acctPages, _) = try h.pullAll(acct, limit: 7)
        #expect(acctPages.flatMap(\.changes).count == 40)
        #expect(try ScopedState.of(acct.replica) == (try ScopedState.of(h.depot)))

        // Limits are clamped: 0 serves one change; a huge limit serves them all in one page.
        let one = try h.pull(acct, cursor: VersionVector(), limit: 0)
        #expect(one.changes.count == 1 && one.more)
        let all = try h.pull(acct, cursor: VersionVector(), limit: 1_000_000)
        #expect(all.changes.count == 40 && !all.more)
    }

    @Test func aCursorNeverSkipsAChangeThatArrivesLater() throws {
        let h = try ServiceHarness()
        let a = try h.device("van-a", scope: "R07")
        let b = try h.device("van-b", scope: "R07")
        try Self.events(a, 5, prefix: "EV")
        let changes = try a.replica.ownChanges(after: 0, limit: 10)
        // Seq 4 goes missing on the way; 5 arrives above the gap.
        let first = try h.push(a, [changes[0], changes[1], changes[2], changes[4]])
        #expect(first.applied == 4 && first.ack == 3, "ack stops at the gap: \(first)")
        let (p1, cursor) = try h.pullAll(b, limit: 100)
        #expect(p1.flatMap(\.changes).map(\.seq) == [1, 2, 3], "only what is held without gap is served")
        #expect(cursor[a.replica.site] == 3)
        let second = try h.push(a, [changes[3]])
        #expect(second.applied == 1 && second.ack == 5)
        let (p2, _) = try h.pullAll(b, from: cursor, limit: 100)
        #expect(p2.flatMap(\.changes).map(\.seq) == [4, 5])
        #expect(try ScopedState.of(b.replica) == (try ScopedState.of(h.depot, route: "R07")))
    }

    @Test func replaysAreDuplicatesAndLedgerClashesAreViolations() throws {
        let h = try ServiceHarness()
        let a = try h.device("van-a", scope: "R07")
        let b = try h.device("van-b", scope: "R07")
        try Self.events(a, 4, prefix: "EV")
        let first = try h.pushAll(a)
        #expect(first.applied == 4 && first.duplicates == 0)
        let digest = try h.depot.digest()
        for _ in 0..<3 {
            let again = try h.pushAll(a)
            #expect(again.applied == 0 && again.duplicates == 4 && again.ack == 4)
        }
        #expect(try h.depot.digest() == digest)
        // van-b records EV-1 with other content: the depot keeps the first, reports the other.
        let bKey = try DeviceKey.stored(in: b.replica)
        try b.replica.write { tx in
            try EventChain.insert(tx, id: "EV-1", ["route": .text("R07"), "kind": .text("cash"), "amount": .integer(999)], key: bKey)
        }
        let clash = try h.pushAll(b)
        #expect(clash.applied == 1)
        #expect(clash.violations.map(\.key) == ["EV-1"], "\(clash)")
        #expect(clash.violations.first?.contentHash.count == 64)
        #expect(try h.depot.rows("events").first { $0.key == "EV-1" }?["amount"] == .integer(1))
        #expect(try h.service.registry.auditLog().contains { $0.action == "integrity_violation" && $0.detail.contains("EV-1") })
    }

    @Test func scopeByRouteWindowAndReferenceData() throws {
        // A schema with reference data (no scope column) and a window's table, beside tickets.
        let schema = try Schema(version: 1, tables: [
            TableSchema("products", key: "sku", kind: .record, columns: [ColumnSchema("name", .text), ColumnSchema("price", .integer)]),
            TableSchema("tickets", key: "ticket", kind: .record, columns: [ColumnSchema("route", .text), ColumnSchema("note", .text)]),
            TableSchema("counter", key: "id", kind: .ledger, columns: [ColumnSchema("window", .text), ColumnSchema("amount", .integer)]),
        ])
        let h = try ServiceHarness(schema: schema)
        let van = try h.device("van-a", scope: "R07")
        let window = try h.device("window-1", role: .window, scope: "W1")
        let acct = try h.device("accounts", role: .accountant)
        // The depot writes reference data itself; every device reads it.
        try h.depot.write { tx in try tx.insert("products", key: "SKU-1", ["name": .text("水 19L"), "price": .integer(1200)]) }
        try van.replica.write { tx in
            try tx.insert("tickets", key: "R07-T1", ["route": .text("R07")])
            try tx.insert("tickets", key: "R08-T1", ["route": .text("R08")])
        }
        try window.replica.write { tx in try tx.insert("counter", key: "W1-1", ["window": .text("W1"), "amount": .integer(500)]) }
        try window.replica.write { tx in try tx.insert("counter", key: "W2-1", ["window": .text("W2"), "amount": .integer(700)]) }

        let before = try h.depot.digest()
        for (d, changes, why) in [
            (van, try van.replica.ownChanges(after: 0, limit: 10), "a van writing R08"),
            (window, try window.replica.ownChanges(after: 0, limit: 10), "a window writing W2"),
        ] {
            let r = h.call("POST", "/v1/push", d, PushRequest(schemaVersion: 1, site: d.replica.site, changes: changes))
            #expect(r.status == 403 && ServiceHarness.errorCode(r) == "out_of_scope", "\(why): \(String(decoding: r.body, as: UTF8.self))")
        }
        // Reference data and an accountant's writes are refused too.
        try van.replica.write { tx in try tx.upsert("products", key: "SKU-1", ["price": .integer(1)]) }
        try acct.replica.write { tx in try tx.insert("tickets", key: "R07-T9", ["route": .text("R07")]) }
        let vanRef = h.call("POST", "/v1/push", van, PushRequest(schemaVersion: 1, site: van.replica.site,
                                                               changes: try van.replica.ownChanges(after: 2, limit: 10)))
        #expect(vanRef.status == 403 && ServiceHarness.errorCode(vanRef) == "out_of_scope")
        let acctWrite = h.call("POST", "/v1/push", acct, PushRequest(schemaVersion: 1, site: acct.replica.site,
                                                                   changes: try acct.replica.ownChanges(after: 0, limit: 10)))
        #expect(acctWrite.status == 403 && ServiceHarness.errorCode(acctWrite) == "out_of_scope")
        #expect(try h.depot.digest() == before, "refused pushes store nothing")
        #expect(try h.service.registry.auditLog().filter { $0.action == "refused_write" }.count == 4)

        // The in-scope halves go through.
        #expect(try h.push(van, [try van.replica.ownChanges(after: 0, limit: 1)[0]]).ack == 1)
        #expect(try h.push(window, [try window.replica.ownChanges(after: 0, limit: 1)[0]]).ack == 1)
        let vanSees = try h.pullAll(van, limit: 100).pages.flatMap(\.changes)
        #expect(Set(vanSees.map(\.table)) == ["products"], "the van reads reference data; its own ticket does not come back")
        let windowSees = try h.pullAll(window, limit: 100).pages.flatMap(\.changes)
        #expect(Set(windowSees.map(\.key)) == ["SKU-1"], "no tickets for a window")
        let acctSees = try h.pullAll(acct, limit: 100).pages.flatMap(\.changes)
        #expect(Set(acctSees.map(\.key)) == ["SKU-1", "R07-T1", "W1-1"])
    }

    @Test func compressedAnswersAndBlobs() throws {
        let h = try ServiceHarness()
        let a = try h.device("van-a", scope: "R07")
        // Answers are compressed when asked.
        let req = h.request("POST", "/v1/pull", a, PullRequest(schemaVersion: 1, cursor: VersionVector(), limit: 10), acceptDeflate: true)
        let r = h.service.handle(req)
        #expect(r.status == 200 && r.headers["content-encoding"] == "deflate")
        #expect(r.body.first != UInt8(ascii: "{"))
        let page = try WireCodec.decode(PullResponse.self, from: r.body, compressed: true)
        #expect(page.changes.isEmpty && !page.more)

        // Blobs: offered, stored once under their hash, fetched back; bad names and bytes refused.
        let bytes = Array("signature of 王先生".utf8)
        let hash = try a.replica.putBlob(bytes)  // the device stores it first, under its SHA-256
        let missing = h.call("POST", "/v1/blobs/missing", a, BlobList(hashes: [hash]))
        #expect(try WireCodec.decode(BlobList.self, from: missing.body, compressed: false).hashes == [hash])
        let auth = ["Authorization": "Bearer \(a.credential)"]
        #expect(h.service.handle(DepotRequest(method: "PUT", path: "/v1/blobs/\(hash)", headers: auth, body: bytes)).status == 200)
        #expect(h.service.handle(DepotRequest(method: "PUT", path: "/v1/blobs/\(hash)", headers: auth, body: bytes)).status == 200, "stored once, again fine")
        let wrong = h.service.handle(DepotRequest(method: "PUT", path: "/v1/blobs/\(try a.replica.putBlob([1, 2, 3]))", headers: auth, body: bytes))
        #expect(wrong.status == 400 && ServiceHarness.errorCode(wrong) == "bad_request")
        let badName = h.service.handle(DepotRequest(method: "PUT", path: "/v1/blobs/xyz", headers: auth, body: bytes))
        #expect(badName.status == 400)
        // Read back only by a device that may see a row naming it: van-a once its delivery
        // entry names the image; never a van of another route, knowing the hash or not.
        let other = try h.device("van-z", scope: "R99")
        let asOther = ["Authorization": "Bearer \(other.credential)"]
        let before = h.service.handle(DepotRequest(method: "GET", path: "/v1/blobs/\(hash)", headers: auth))
        #expect(before.status == 404, "named by no row yet")
        let aKey = try DeviceKey.stored(in: a.replica)
        try a.replica.write { tx in
            try EventChain.insert(tx, id: "EV-sig", ["route": .text("R07"), "kind": .text("deliver"), "ref": .text(hash)], key: aKey)
        }
        _ = try h.pushAll(a)
        let got = h.service.handle(DepotRequest(method: "GET", path: "/v1/blobs/\(hash)", headers: auth))
        #expect(got.status == 200 && got.body == bytes)
        let stranger = h.service.handle(DepotRequest(method: "GET", path: "/v1/blobs/\(hash)", headers: asOther))
        #expect(stranger.status == 404 && ServiceHarness.errorCode(stranger) == "not_found", "\(String(decoding: stranger.body, as: UTF8.self))")
        #expect(try h.service.registry.auditLog().contains { $0.action == "refused_blob_read" && $0.device == "van-z" })
        let absent = h.service.handle(DepotRequest(method: "GET", path: "/v1/blobs/\(try a.replica.putBlob([9]))", headers: auth))
        #expect(absent.status == 404 && ServiceHarness.errorCode(absent) == "not_found")
        let none = h.call("POST", "/v1/blobs/missing", a, BlobList(hashes: [hash]))
        #expect(try WireCodec.decode(BlobList.self, from: none.body, compressed: false).hashes.isEmpty)
        let anonymous = h.service.handle(DepotRequest(method: "GET", path: "/v1/blobs/\(hash)"))
        #expect(anonymous.status == 401 && ServiceHarness.errorCode(anonymous) == "missing_credential")
    }
}
