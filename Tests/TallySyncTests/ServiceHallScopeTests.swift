import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// The service hall's shared book through the depot's own protocol handler: every window reads
/// every request, complaint and step, each row is written only by the device its `window` (or
/// `route`) names, a window's cash stays its own, and vans read none of the hall's rows.
@Suite struct ServiceHallScopeTests {
    @Test func windowsShareTheHallsBookAndKeepTheirCash() throws {
        let h = try ServiceHarness()
        let w1 = try h.device("W1", role: .window, scope: "grants")
        let w2 = try h.device("W2", role: .window, scope: "housing")
        let van = try h.device("van-07", scope: "R07")
        let acct = try h.device("accounts", role: .accountant)
        let (w1Key, vanKey) = (try DeviceKey.stored(in: w1.replica), try DeviceKey.stored(in: van.replica))

        try w1.replica.write { tx in
            try tx.insert("requests", key: "2026-11-27/W1-001", ["window": .text("grants"), "device": .text("W1"), "day": .text("2026-11-27"),
                                                               "queue": .text("W1-001"), "mode": .text("joint"), "departments": .text("grants|housing")])
            try EventChain.insert(tx, id: "W1/fee/1",
                                  ["window": .text("grants"), "kind": .text("fee"), "amount": .integer(5000), "device": .text("W1")],
                                  key: w1Key)
        }
        try w2.replica.write { tx in
            try tx.insert("service_steps", key: "W2/2026-11-27/W1-001/sign", ["window": .text("housing"), "subject": .text("2026-11-27/W1-001"),
                                                                              "action": .text("sign"), "department": .text("housing"), "device": .text("W2")])
        }
        try van.replica.write { tx in
            try tx.insert("complaints", key: "C-van-07-1", ["route": .text("R07"), "device": .text("van-07"), "text": .text("少了一条")])
            try EventChain.insert(tx, id: "van-07/scan/1", ["route": .text("R07"), "kind": .text("scan"), "device": .text("van-07")],
                                  key: vanKey)
        }
        for d in [w1, w2, van] { #expect(try h.pushAll(d).ack == (d === van ? 2 : d === w1 ? 2 : 1)) }

        func keys(_ d: ServiceHarness.Device) throws -> Set<String> {
            Set(try h.pullAll(d, limit: 100).pages.flatMap(\.changes).map { "\($0.table):\($0.key)" })
        }
        #expect(try keys(w2) == ["requests:2026-11-27/W1-001", "complaints:C-van-07-1"],
                "W2 reads W1's request and the van's complaint (its own step does not come back), not W1's fee")
        #expect(try keys(w1) == ["service_steps:W2/2026-11-27/W1-001/sign", "complaints:C-van-07-1"])
        #expect(try keys(van).isEmpty, "a van reads none of the hall's rows and no window's cash")
        #expect(try keys(acct) == ["requests:2026-11-27/W1-001", "events:W1/fee/1", "service_steps:W2/2026-11-27/W1-001/sign",
                                   "complaints:C-van-07-1", "events:van-07/scan/1"])

        // Writing what another device owns is refused and audited; nothing is stored.
        let before = try h.depot.digest()
        try h.pullAll(w2, limit: 100)
        try w2.replica.write { tx in try tx.update("requests", key: "2026-11-27/W1-001", ["departments": .text("housing")]) }
        try van.replica.write { tx in try tx.insert("requests", key: "2026-11-27/V-001", ["window": .text("grants"), "device": .text("van-07")]) }
        for (d, after) in [(w2, UInt64(1)), (van, UInt64(2))] {
            let r = h.call("POST", "/v1/push", d, PushRequest(schemaVersion: h.schema.version, site: d.replica.site,
                                                           changes: try d.replica.ownChanges(after: after, limit: 10)))
            #expect(r.status == 403 && ServiceHarness.errorCode(r) == "out_of_scope", "\(d.name): \(String(decoding: r.body, as: UTF8.self))")
        }
        #expect(try h.depot.digest() == before)
    }

    @Test func theDepotLogsServiceRowsUnderTheHallsOwner() throws {
        // Every window's pull reads them through the owner index under `*service`.
        let h = try ServiceHarness()
        let w1 = try h.device("W1", role: .window, scope: "grants")
        try w1.replica.write { tx in try tx.insert("complaints", key: "C-1", ["window": .text("grants"), "device": .text("W1")]) }
        try h.pushAll(w1)
        var owners: [String?] = []
        try h.depot.select("SELECT sc FROM tally_log WHERE key = 'C-1'") { owners.append($0[0].text) }
        #expect(owners == [ColumnScopePolicy.serviceOwner])
    }
}

private func === (a: ServiceHarness.Device, b: ServiceHarness.Device) -> Bool { a.name == b.name }
