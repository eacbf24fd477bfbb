import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// Approving and reopening a van's day: when it is refused, what a note is needed for, and the
/// history kept of both.
@Suite struct ApprovalTests {
    /// The standard R07 day with `deposit` paid in (collected 1130.00), optionally closed, synced.
    static func day(_ d: Depot, deposit: Money, close: Bool = true) throws -> Reconciler {
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(deposit, bankRef: "ICBC-0001")
        if close { try d.close(v) }
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,\(deposit),ICBC-0001"])
        d.set("2026-11-29T10:00:00+08:00")
        return try d.reconciler()
    }

    @Test func refusedWhilePending() throws {
        let d = try Depot()
        let r = try Self.day(d, deposit: .yuan(1130), close: false)
        expectRefusal("has not closed 2026-11-28") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "all fine") }
        expectRefusal("van-99 has nothing to settle") { try r.approve(device: "van-99", date: Depot.day, by: "王会计", note: nil) }
        #expect(try d.store.history().isEmpty)
        #expect(try r.reconcile(date: Depot.day).settlement("van-07").status == .pending)
    }

    @Test func aVarianceAboveTheToleranceNeedsANote() throws {
        let d = try Depot()
        // 1000.00 deposited of 1130.00: variance −130.00; the tolerance is 0.00 by default.
        let r = try Self.day(d, deposit: .yuan(1000))
        #expect(try d.store.tolerance() == .zero)
        expectRefusal("variance of -130.00 is over the tolerance of 0.00") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil) }
        expectRefusal("over the tolerance") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "   ") }
        #expect(try r.reconcile(date: Depot.day).settlement("van-07").status == .short)

        let a = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "  司机次日补交130.00 ")
        #expect(a.variance == Money(minorUnits: -13_000))
        #expect(a.note == "司机次日补交130.00")
        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.status == .approved)
        #expect(s.approval?.note == "司机次日补交130.00")
        // The figures still show the difference; approving does not make it go away.
        #expect(s.cash.variance == Money(minorUnits: -13_000))
    }

    @Test(arguments: [(Money(minorUnits: 49), false), (Money(minorUnits: 50), true), (Money.yuan(1), true)])
    func theToleranceLetsASmallVarianceThroughWithoutANote(tolerance: Money, accepted: Bool) throws {
        let d = try Depot()
        // 1129.50 deposited of 1130.00: variance −0.50.
        let r = try Self.day(d, deposit: .yuan(1129, 50))
        try d.store.setTolerance(tolerance)
        #expect(try d.store.tolerance() == tolerance)
        if accepted {
            let a = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil)
            #expect(a.variance == Money(minorUnits: -50))
            #expect(try r.reconcile(date: Depot.day).settlement("van-07").status == .approved)
        } else {
            expectRefusal("over the tolerance of 0.49") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil) }
            #expect(try r.reconcile(date: Depot.day).settlement("van-07").status == .short)
        }
    }

    @Test func reopenNeedsANoteAndUnlocksTheDay() throws {
        let d = try Depot()
        let r = try Self.day(d, deposit: .yuan(1130))
        expectRefusal("is not approved") { try r.reopen(device: "van-07", date: Depot.day, by: "王会计", note: "nothing to reopen") }

        let first = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil)
        expectRefusal("already approved by 王会计") { try r.approve(device: "van-07", date: Depot.day, by: "李会计", note: "twice") }

        expectRefusal("say why the day is reopened") { try r.reopen(device: "van-07", date: Depot.day, by: "李会计", note: "  ") }
        #expect(try r.reconcile(date: Depot.day).settlement("van-07").status == .approved)

        d.set("2026-11-29T11:00:00+08:00")
        try r.reopen(device: "van-07", date: Depot.day, by: "李会计", note: "存款单据有误，复核")
        let reopened = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(reopened.status == .balanced)
        #expect(reopened.approval == nil)
        expectRefusal("is not approved") { try r.reopen(device: "van-07", date: Depot.day, by: "李会计", note: "again") }

        d.set("2026-11-29T12:00:00+08:00")
        let second = try r.approve(device: "van-07", date: Depot.day, by: "李会计", note: "复核无误")
        #expect(try r.reconcile(date: Depot.day).settlement("van-07").approval == second)

        let h = try d.store.history()
        #expect(h.map(\.action) == ["approve", "reopen", "approve"])
        #expect(h.map(\.by) == ["王会计", "李会计", "李会计"])
        #expect(h.map(\.note) == ["", "存款单据有误，复核", "复核无误"])
        #expect(h.map(\.at) == [first.at, "2026-11-29T11:00:00+08:00", "2026-11-29T12:00:00+08:00"])
        #expect(h.allSatisfy { $0.device == "van-07" && $0.day == Depot.day })
    }

    @Test func approvingIsPerDeviceAndDay() throws {
        let d = try Depot()
        let r7 = try Self.day(d, deposit: .yuan(1130))
        let v8 = try d.van("van-08", route: "R08")
        try Depot.deliver(v8, Depot.t3, cash: .yuan(95))
        try v8.deposit(.yuan(95), bankRef: "ICBC-0008")
        try d.close(v8)
        try d.sync(v8)
        let r = Reconciler(replica: r7.replica, store: d.store, devices: [Depot.device("van-07", "R07"), Depot.device("van-08", "R08")])
        _ = try r.approve(device: "van-08", date: Depot.day, by: "王会计", note: "bank line to come")
        let rec = try r.reconcile(date: Depot.day)
        #expect(try rec.settlement("van-08").status == .approved)
        #expect(try rec.settlement("van-07").status == .balanced)
        #expect(try d.store.approvals(day: "2026-11-29").isEmpty)
    }
}
