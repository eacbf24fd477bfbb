import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// Each settlement status from a whole van day built through `VanBook`, with the figures worked
/// out by hand from the manifest (see `Depot`).
@Suite struct ReconcileStatusTests {
    @Test func aFullDayPaidInIsBalanced() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        d.set("2026-11-28T17:00:00+08:00")
        try v.deposit(.yuan(1130), bankRef: "ICBC-0001")
        try d.close(v)
        try d.sync(v)
        #expect(try d.importBank(["2026-11-28,6222,1130.00,ICBC-0001"]) == 1)

        let rec = try d.reconcile()
        #expect(rec.date == Depot.day && rec.currency == "CNY")
        #expect(rec.settlements.map(\.device) == ["van-07"])  // no device registered on R08: nothing listed for it
        let s = try rec.settlement("van-07")
        #expect(s.status == .balanced)
        #expect(s.route == "R07")
        #expect(s.tickets == Settlement.Tickets(planned: 2, delivered: 2, refused: 0, open: 0))
        // expected: T0001 (cash) handed over in full = 1130.00; T0002 is electronic and adds nothing.
        // collected: 1130.00 (T0001) + 0.00 (T0002) − 0.00 paid back = 1130.00. deposited 1130.00.
        // variance: 1130.00 − 1130.00 = 0.00.
        #expect(s.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1130), deposited: .yuan(1130), variance: .zero))
        // manifest 3 + 1 = 4 cartons; counted as the manifest: 4; handed over 3 + 1 = 4.
        #expect(s.load == Settlement.Load(manifest: 4, loaded: 4, delivered: 4, returned: 0, short: 0))
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        #expect(s.approval == nil)
        #expect(rec.totals == Reconciliation.Totals(expected: .yuan(1130), collected: .yuan(1130), deposited: .yuan(1130), variance: .zero))
        #expect(rec.unmatchedBankLines.isEmpty)
    }

    @Test func lessPaidInThanCollectedIsShort() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1000), bankRef: "ICBC-0002")
        try d.close(v)
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1000.00,ICBC-0002"])

        let s = try d.reconcile().settlement("van-07")
        // collected 1130.00, deposited 1000.00: variance 1000.00 − 1130.00 = −130.00.
        #expect(s.status == .short)
        // The driver could not close with the 130.00 on hand unplaced: he declared it missing.
        #expect(s.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1130), deposited: .yuan(1000), declaredMissing: .yuan(130),
                                          variance: Money(minorUnits: -13_000)))
        #expect(s.kinds == [.cashMismatch, .cashMissing], "\(s.exceptions)")
        let detail = s.exceptions.first?.detail ?? ""
        #expect(detail.contains("deposited 1000.00 against 1130.00 collected"), "\(detail)")
        #expect(detail.contains("130.00 not paid in"), "\(detail)")
        // The van's own close said so: 1130.00 − 1000.00 = 130.00, declared missing with its reason.
        #expect(detail.contains("130.00 declared missing: 司机未能全部缴存"), "\(detail)")
        #expect(s.exceptions.last?.detail == "the driver declared 130.00 missing at the close: 司机未能全部缴存")
        #expect(s.exceptions.first?.ticket == nil && s.exceptions.first?.event == nil)
    }

    @Test func moreDepositedThanCollectedIsOver() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1130), bankRef: "ICBC-0003")
        // The delivery of T0001 is voided after the deposit and recorded again as a part payment of
        // 1000.00 (the shop had only that much): the scans stay, so it is handed over again directly.
        try v.void("van-07/deliver/T0001", reason: "the shop paid only 1000.00")
        _ = try v.deliver(DeliveryRequest(ticket: Depot.t1, signature: Depot.signature, signer: "店主", cash: .yuan(1000), partialReason: "店主现金不足"))
        try d.close(v)
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0003"])

        let s = try d.reconcile().settlement("van-07")
        // Active deliveries: T0001#2 (value 1130.00, cash 1000.00) and T0002 (electronic).
        // expected 1130.00; collected 1000.00; deposited 1130.00; variance 1130.00 − 1000.00 = +130.00.
        #expect(s.status == .over)
        #expect(s.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1000), deposited: .yuan(1130), variance: .yuan(130)))
        #expect(s.tickets == Settlement.Tickets(planned: 2, delivered: 2, refused: 0, open: 0))
        let cash = s.exceptions(.cashMismatch)
        // The part payment's rest is owed by the shop (a receivable), not a cash difference.
        #expect(s.kinds == [.receivableOpened, .cashMismatch], "\(s.exceptions)")
        #expect(s.exceptions(.receivableOpened).first?.event == "van-07/deliver/T0001#2")
        #expect(s.receivables == Settlement.Receivable(opened: .yuan(130), settled: .zero))
        #expect(cash.contains { $0.ticket == nil && $0.detail.contains("130.00 more paid in than collected") && $0.detail.contains("cash on hand is -130.00") },
                "\(cash)")
    }

    @Test func aVanThatHasNotClosedAndAVanWithNoEntriesArePending() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        try d.van("van-08", route: "R08")
        try Depot.workR07(v7)
        try d.sync(v7)

        let devices = [Depot.device("van-07", "R07", lastSyncAt: "2026-11-28T12:00:00+08:00"),
                       Depot.device("van-08", "R08", lastSyncAt: nil, skew: nil),
                       Depot.device("van-09", "R09")]  // a route with no tickets that day and no entries: not listed
        let rec = try d.reconcile(devices)
        #expect(rec.settlements.map(\.device) == ["van-07", "van-08"])

        let s7 = try rec.settlement("van-07")
        #expect(s7.status == .pending)
        // Nothing deposited yet: variance 0.00 − 1130.00 = −1130.00; still pending, never short.
        #expect(s7.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1130), deposited: .zero, variance: Money(minorUnits: -113_000)))
        let unsynced = s7.exceptions(.unsyncedDevice)
        #expect(unsynced.count == 1)
        #expect(unsynced.first?.detail.contains("van-07 has not closed 2026-11-28 at the depot; last sync 2026-11-28 12:00") == true, "\(unsynced)")

        let s8 = try rec.settlement("van-08")
        #expect(s8.status == .pending)
        #expect(s8.route == "R08")
        #expect(s8.tickets == Settlement.Tickets(planned: 1, delivered: 0, refused: 0, open: 1))
        #expect(s8.cash == Settlement.Cash(expected: .zero, collected: .zero, deposited: .zero, variance: .zero))
        #expect(s8.load == Settlement.Load(manifest: 1, loaded: nil, delivered: 0, returned: 0, short: 0))
        #expect(s8.kinds.sorted { $0.rawValue < $1.rawValue } == [.loadVariance, .unsyncedDevice], "\(s8.exceptions)")
        #expect(s8.exceptions(.unsyncedDevice).first?.detail.contains("it has never synced") == true)
        #expect(mentions(s8.exceptions(.loadVariance).first?.detail ?? "", "no load-out"), "\(s8.exceptions)")

        // Totals: 1130.00 + 0.00 expected and collected, 0.00 deposited, −1130.00 variance.
        #expect(rec.totals == Reconciliation.Totals(expected: .yuan(1130), collected: .yuan(1130), deposited: .zero, variance: Money(minorUnits: -113_000)))
    }

    @Test func aVanNotInTheRegistryIsStillSettledFromItsEntries() throws {
        let d = try Depot()
        let v = try d.van("relief-1")
        try Depot.workR07(v)
        try v.deposit(.yuan(1130), bankRef: "ICBC-0004")
        try d.close(v)
        try d.sync(v)
        let rec = try d.reconcile([])
        let s = try rec.settlement("relief-1")
        #expect(s.route == "R07")
        #expect(s.status == .balanced)
        // Not registered: never synced as far as the registry knows, but it closed: no unsynced_device.
        #expect(!s.kinds.contains(.unsyncedDevice))
    }

    @Test func anApprovedDayReadsApproved() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1130), bankRef: "ICBC-0005")
        try d.close(v)
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0005"])
        d.set("2026-11-29T10:00:00+08:00")
        let r = try d.reconciler()
        let a = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil)
        #expect(a.device == "van-07" && a.day == Depot.day && a.by == "王会计" && a.note == "" && a.variance == .zero)
        // The day's entries of van-07: vehicle check 1, odometer 2, load-out 1, scans 3 + 1, deliveries 2,
        // deposit 1, close 1 = 12.
        #expect(a.entries == 12)
        #expect(a.at == "2026-11-29T10:00:00+08:00")

        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.status == .approved)
        #expect(s.approval == a)
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        #expect(s.cash.variance == .zero)
    }

    @Test func theBusinessDayIsTheManifestDateNotTheWallClock() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try v.vehicleCheck(fault: nil)
        _ = try v.loadOut(counts: [:])
        try Depot.deliver(v, Depot.t1, cash: .yuan(1130))
        // Past midnight, then the next morning at the bank, before closing: still the 28th.
        d.set("2026-11-29T00:30:00+08:00")
        try Depot.deliver(v, Depot.t2)
        d.set("2026-11-29T08:15:00+08:00")
        try v.deposit(.yuan(1130), bankRef: "SLIP-29")
        try d.close(v)
        try d.sync(v)
        // The bank books it on the 29th under its own reference: matched by amount, on or after the 28th.
        try d.importBank(["2026-11-29,6222,1130.00,ICBC-29-0001"])

        let r = try d.reconciler()
        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.status == .balanced)
        #expect(s.tickets == Settlement.Tickets(planned: 2, delivered: 2, refused: 0, open: 0))
        #expect(s.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1130), deposited: .yuan(1130), variance: .zero))
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        let next = try r.reconcile(date: "2026-11-29")
        #expect(next.settlements.isEmpty)
        #expect(next.unmatchedBankLines.isEmpty)
    }

    @Test func oneRouteOnlyAndABadDate() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v8 = try d.van("van-08", route: "R08")
        try Depot.workR07(v7)
        try Depot.deliver(v8, Depot.t3, cash: .yuan(95))
        try d.sync(v7)
        try d.sync(v8)
        let r = try d.reconciler()
        let all = try r.reconcile(date: Depot.day)
        #expect(all.settlements.map(\.device) == ["van-07", "van-08"])
        let r08 = try r.reconcile(date: Depot.day, route: "R08")
        #expect(r08.settlements.map(\.device) == ["van-08"])
        #expect(r08.settlements == [try all.settlement("van-08")])
        // 95.00 expected and collected on R08 alone.
        #expect(r08.totals == Reconciliation.Totals(expected: .yuan(95), collected: .yuan(95), deposited: .zero, variance: Money(minorUnits: -9_500)))
        expectRefusal("is not a date like 2026-11-28") { try r.reconcile(date: "2026-11-31") }
        expectRefusal("is not a date") { try r.reconcile(date: "28/11/2026") }
    }
}
