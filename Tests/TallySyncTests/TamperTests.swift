import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// Tampering with signed entries, through the depot's own protocol handler: each attempt is
/// detected with a message that names the entry, and changes nothing.
@Suite struct TamperTests {
    /// A van that joined with a key and recorded three entries through the signing path.
    static func van(_ h: ServiceHarness, _ name: String = "van-07", entries: Int = 3) throws -> (ServiceHarness.Device, [Change]) {
        let d = try h.device(name, scope: "R07", signed: true)
        let key = try DeviceKey.stored(in: d.replica)
        for i in 1...entries {
            try d.replica.write { tx in
                try EventChain.insert(tx, id: "\(name)/deliver/T\(i)", ["route": .text("R07"), "ticket": .text("T\(i)"), "kind": .text("deliver"),
                                                                   "amount": .integer(Int64(i) * 10_000), "device": .text(name),
                                                                   "at": .text("2026-11-28T09:0\(i):00.000+08:00"), "day": .text("2026-11-28")], key: key)
            }
        }
        return (d, try d.replica.ownChanges(after: 0, limit: 100))
    }

    static func keys(_ h: ServiceHarness) throws -> [String: String] {
        var out: [String: String] = [:]
        for d in try h.service.registry.devices() { if let k = d.publicKey { out[d.name] = k } }
        return out
    }

    func refused(_ h: ServiceHarness, _ d: ServiceHarness.Device, _ changes: [Change], _ words: String,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try h.depot.digest()
        let r = h.call("POST", "/v1/push", d, PushRequest(schemaVersion: h.schema.version, site: d.replica.site, changes: changes))
        let body = String(decoding: r.body, as: UTF8.self)
        #expect(r.status == 403 && ServiceHarness.errorCode(r) == "bad_signature", "\(body)", sourceLocation: sourceLocation)
        #expect(body.contains(words), "\(body)", sourceLocation: sourceLocation)
        #expect(try h.depot.digest() == before, "a refused push stored something", sourceLocation: sourceLocation)
    }

    @Test func anHonestDaysEntriesVerify() throws {
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        #expect(try h.push(d, changes).ack == 3)
        let audit = try ChainAudit.run(h.depot, keys: try Self.keys(h))
        #expect(audit.ok, "\(audit.findings)")
        #expect(audit.devices == [ChainAudit.DeviceResult(device: "van-07", entries: 3, verified: 3, head: 3)])
    }

    @Test func oneChangedByteIsRefusedAndAudited() throws {
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        var forged = changes
        // The amount of the second delivery, 20000 → 2000 (one digit less), after signing.
        let i = try #require(forged.firstIndex { $0.key == "van-07/deliver/T2" })
        forged[i].values = forged[i].values.map { $0.column == "amount" ? ColumnValue("amount", .integer(2_000)) : $0 }
        try refused(h, d, forged, "entry van-07/deliver/T2 does not match its signature")
        #expect(try h.service.registry.auditLog().contains { $0.action == "refused_signature" && $0.detail.contains("van-07/deliver/T2") })
    }

    /// The depot checks one signature per unbroken run of the chain: the last entry's vouches
    /// for the content of those before it through their hashes. A changed last entry is refused;
    /// a middle entry's `sig` itself, outside the signed bytes, is left to the audit.
    @Test func theLastSignatureOfARunVouchesForTheEntriesBeforeIt() throws {
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        var lastChanged = changes
        lastChanged[2].values = lastChanged[2].values.map { $0.column == "amount" ? ColumnValue("amount", .integer(1)) : $0 }
        try refused(h, d, lastChanged, "entry van-07/deliver/T3 does not match its signature")
        var sigSwapped = changes
        let otherSig = try #require(changes[0].value("sig"))
        sigSwapped[1].values = sigSwapped[1].values.map { $0.column == "sig" ? ColumnValue("sig", otherSig) : $0 }
        #expect(try h.push(d, sigSwapped).ack == 3, "its content is vouched for by T3's signature")
        let audit = try ChainAudit.run(h.depot, keys: try Self.keys(h))
        #expect(audit.findings.map(\.problem) == [.altered] && audit.findings.first?.entry == "van-07/deliver/T2", "\(audit.findings)")

        // The device's own check vouches the same way and still names an entry edited in the file.
        let mine = try ChainAudit.run(d.replica, keys: try Self.keys(h), device: "van-07", lastEntries: 2_000, vouching: true)
        #expect(mine.ok && mine.devices.first?.verified == 3, "\(mine)")
        try sqlite(d.replica.path, "UPDATE events SET amount = 1 WHERE id = 'van-07/deliver/T2'")
        let edited = try ChainAudit.run(d.replica, keys: try Self.keys(h), device: "van-07", lastEntries: 2_000, vouching: true)
        #expect(edited.findings.map(\.problem) == [.altered, .brokenLink] && edited.findings.first?.entry == "van-07/deliver/T2", "\(edited.findings)")
    }

    @Test func aSignatureReusedOnAnotherTicketIsRefused() throws {
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        var forged = changes
        let i = try #require(forged.firstIndex { $0.key == "van-07/deliver/T1" })
        forged[i].values = forged[i].values.map { $0.column == "ticket" ? ColumnValue("ticket", .text("T9")) : $0 }
        try refused(h, d, forged, "van-07/deliver/T1 does not match its signature")
    }

    @Test func anotherDevicesEntryReplayedIsRefused() throws {
        let h = try ServiceHarness()
        let (a, changes) = try Self.van(h, "van-07")
        #expect(try h.push(a, changes).ack == 3)
        let b = try h.device("van-08", scope: "R07", signed: true)
        // van-08 sends van-07's signed entry as its own change.
        let stolen = Change(table: "events", key: changes[0].key, cl: changes[0].cl, values: changes[0].values,
                            hlc: changes[0].hlc, site: b.replica.site, seq: 1)
        try refused(h, b, [stolen], "names van-07 as its device, but van-08 pushed it")
        // And claiming it under its own name breaks the signature.
        var renamed = stolen
        renamed.values = renamed.values.map { $0.column == "device" ? ColumnValue("device", .text("van-08")) : $0 }
        try refused(h, b, [renamed], "does not match its signature")
    }

    @Test func aDroppedEntryIsAGapUntilItArrivesAndOrderOfArrivalDoesNotMatter() throws {
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        // The second entry held back: the third arrives first (a push cut, or a deleted entry).
        #expect(try h.push(d, [changes[0], changes[2]]).ack == 1)
        var audit = try ChainAudit.run(h.depot, keys: try Self.keys(h))
        #expect(audit.findings.map(\.problem) == [.chainGap])
        #expect(audit.findings.first?.entry == "van-07/deliver/T3" && audit.findings.first?.detail.contains("entries 2 of van-07 are missing") == true)
        #expect(try h.push(d, [changes[1]]).ack == 3)
        audit = try ChainAudit.run(h.depot, keys: try Self.keys(h))
        #expect(audit.ok, "\(audit.findings)")
    }

    @Test func anEntryAlteredInTheDepotsFileIsNamedByTheAudit() throws {
        // A curious (or dishonest) depot operator edits the depot's replica with SQL.
        let h = try ServiceHarness()
        let (d, changes) = try Self.van(h)
        #expect(try h.push(d, changes).ack == 3)
        try sqlite(h.depot.path, "UPDATE events SET amount = 1 WHERE id = 'van-07/deliver/T3'")
        let audit = try ChainAudit.run(h.depot, keys: try Self.keys(h))
        #expect(audit.findings.map(\.problem) == [.altered])
        #expect(audit.findings.first?.detail.contains("van-07/deliver/T3 (deliver 0.01 of T3) does not match its signature") == true)
        // Put back, and the middle entry deleted outright: a gap.
        try sqlite(h.depot.path, "UPDATE events SET amount = 30000 WHERE id = 'van-07/deliver/T3'; DELETE FROM events WHERE id = 'van-07/deliver/T2'")
        #expect(try ChainAudit.run(h.depot, keys: try Self.keys(h)).findings.map(\.problem) == [.chainGap])
    }
}

/// Runs SQL on a file with the `sqlite3` shell, as someone editing it by hand would.
func sqlite(_ path: String, _ sql: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    p.arguments = [path, sql]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "sqlite3 \(sql)")
}
