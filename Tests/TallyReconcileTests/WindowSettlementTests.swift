import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// A window's fees are settled like a van's cash by the same reconciliation: expected, collected,
/// deposited, matched to the bank, approved.
@Suite struct WindowSettlementTests {
    func window(_ d: Depot, _ name: String, kind: String) throws -> WindowBook {
        let r = try Depot.newReplica(d.dir.appendingPathComponent("\(name).sqlite").path, clock: d.clock)
        try r.setSettings(["sync.device": name, "sync.scope": kind, "sync.role": "window"])
        return try WindowBook.joined(r, clock: d.clock)
    }

    @Test func aWindowsFeesSettleBesideTheVans() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        let w = try window(d, "W1", kind: "facilities")
        _ = try w.fee("crate_deposit", amount: .yuan(100), payer: "王小明")
        _ = try w.fee("card", amount: .yuan(23, 40))
        let wrong = try w.fee("redelivery", amount: .yuan(80))
        _ = try w.void(wrong, reason: "收错了")
        d.set("2026-11-28T17:00:00+08:00")
        try v.deposit(.yuan(1130), bankRef: "ICBC-0001")
        _ = try w.deposit(.yuan(120), bankRef: "ICBC-0002")  // 3.40 short
        try d.close(v)
        _ = try w.closeDay(unsynced: Unsynced(changes: 0, blobs: 0), missing: .yuan(3, 40), reason: "找零少了")
        try d.sync(v)
        try d.replica.merge(from: w.replica)
        #expect(try d.importBank(["2026-11-28,6222,1130.00,ICBC-0001", "2026-11-28,6222,120.00,ICBC-0002"]) == 2)

        let devices = [Depot.device("van-07", "R07"), DeviceInfo(name: "W1", role: "window", scope: "facilities", lastSyncAt: nil, lastSkewMs: 0)]
        let rec = try d.reconcile(devices)
        #expect(rec.settlements.map(\.device) == ["van-07", "W1"], "vans first, then windows")
        let s = try rec.settlement("W1")
        #expect(s.window == "facilities" && s.route == "" && s.unit == "window facilities")
        // Fees 100.00 + 23.40 (the 80.00 voided): expected = collected = 123.40; deposited 120.00.
        #expect(s.cash == Settlement.Cash(expected: .yuan(123, 40), collected: .yuan(123, 40), deposited: .yuan(120), declaredMissing: .yuan(3, 40),
                                          variance: -.yuan(3, 40)))
        #expect(s.status == .short)
        #expect(s.tickets == Settlement.Tickets(planned: 0, delivered: 0, refused: 0, open: 0))
        #expect(s.kinds == [.cashMismatch, .cashMissing], "\(s.exceptions)")
        #expect(rec.totals.collected == .yuan(1130) + .yuan(123, 40))

        // Approved like a van's day, with a note for the shortfall over the tolerance.
        #expect(throws: ReconcileError.self) { try d.reconciler(devices).approve(device: "W1", date: Depot.day, by: "会计", note: nil) }
        let a = try d.reconciler(devices).approve(device: "W1", date: Depot.day, by: "会计", note: "柜员补交 3.40")
        #expect(a.variance == -.yuan(3, 40))
        #expect(try d.reconcile(devices).settlement("W1").status == .approved)
    }

    @Test func aWindowTheRegistryDoesNotListIsStillSettled() throws {
        let d = try Depot()
        let w = try window(d, "W9", kind: "grants")
        _ = try w.fee("crate_deposit", amount: .yuan(50))
        try d.replica.merge(from: w.replica)
        let s = try d.reconcile([]).settlement("W9")
        #expect(s.window == "grants" && s.status == .pending && s.cash.collected == .yuan(50))
    }
}

private prefix func - (m: Money) -> Money { Money(minorUnits: -m.minorUnits) }
