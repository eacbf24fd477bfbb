import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// Which bank line pays in which deposit: by reference first, then by amount on or after the
/// deposit's day, closest first; each line pays one deposit at most.
@Suite struct DepositMatchingTests {
    /// The standard R07 day, closed after depositing `amount` under `ref`, and synced.
    @discardableResult
    static func day(_ d: Depot, deposits: [(Money, String)]) throws -> VanBook {
        let v = try d.van("van-07")
        try Depot.workR07(v)
        for (m, ref) in deposits { try v.deposit(m, bankRef: ref) }
        try d.close(v)
        try d.sync(v)
        return v
    }

    @Test func byReferenceIgnoringCaseAndTheDaysOtherLineIsListedUnmatched() throws {
        let d = try Depot()
        try Self.day(d, deposits: [(.yuan(1130), "ICBC-0001")])
        // Two lines of 1130.00 on the day: the reference decides, whatever the order.
        try d.importBank(["2026-11-28,6222,1130.00,X-77", "2026-11-28,6222,1130.00,icbc-0001"])
        let rec = try d.reconcile()
        let s = try rec.settlement("van-07")
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        #expect(rec.unmatchedBankLines.map(\.reference) == ["X-77"])
        #expect(rec.unmatchedBankLines.first?.amount == .yuan(1130))
        #expect(rec.unmatchedBankLines.first?.line == nil)  // read back from the store
        // Per route, bank lines are not listed: they belong to no route.
        #expect(try d.reconciler().reconcile(date: Depot.day, route: "R07").unmatchedBankLines.isEmpty)
    }

    @Test func byAmountOnTheClosestLaterDayWhenTheReferenceDiffers() throws {
        let d = try Depot()
        try Self.day(d, deposits: [(.yuan(1130), "SLIP-1")])
        try d.importBank(["2026-11-27,6222,1130.00,A-27",   // before the deposit's day: never its line
                          "2026-11-30,6222,1130.00,C-30",
                          "2026-11-29,6222,1130.00,B-29",   // the closest on or after the 28th
                          "2026-11-29,6222,1129.00,D-29"])  // another amount
        let r = try d.reconciler()
        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        #expect(try r.reconcile(date: Depot.day).unmatchedBankLines.isEmpty)
        #expect(try r.reconcile(date: "2026-11-27").unmatchedBankLines.map(\.reference) == ["A-27"])
        #expect(try r.reconcile(date: "2026-11-29").unmatchedBankLines.map(\.reference) == ["D-29"])
        #expect(try r.reconcile(date: "2026-11-30").unmatchedBankLines.map(\.reference) == ["C-30"])
        // No tickets and no entries on those days: nobody to settle.
        #expect(try r.reconcile(date: "2026-11-29").settlements.isEmpty)
    }

    @Test func aBankLinePaysOneDepositOnly() throws {
        let d = try Depot()
        // van-07: 1035.00 + 95.00 = 1130.00 deposited of 1130.00 collected.
        try Self.day(d, deposits: [(.yuan(1035), "V7-1"), (.yuan(95), "V7-2")])
        // van-08: T0003 95.00 cash, deposited 95.00.
        let v8 = try d.van("van-08", route: "R08")
        try Depot.deliver(v8, Depot.t3, cash: .yuan(95))
        try v8.deposit(.yuan(95), bankRef: "V8-1")
        try d.close(v8)
        try d.sync(v8)
        // V7-1 matches by reference. One 95.00 line for two 95.00 deposits: in (day, id) order
        // van-07/deposit/V7-2 comes before van-08/deposit/V8-1 and takes it.
        try d.importBank(["2026-11-28,6222,1035.00,V7-1", "2026-11-28,6222,95.00,BANK-1"])
        let rec = try d.reconcile()
        let s7 = try rec.settlement("van-07")
        #expect(s7.exceptions.isEmpty, "\(s7.exceptions)")
        let s8 = try rec.settlement("van-08")
        // (van-08 recorded no load-out: a load_variance too, not the point here.)
        #expect(s8.exceptions(.depositUnmatched).map(\.event) == ["van-08/deposit/V8-1"], "\(s8.exceptions)")
        #expect(rec.unmatchedBankLines.isEmpty)
        // Totals: expected 1130.00 + 95.00 = 1225.00, and so collected and deposited; variance 0.00.
        #expect(rec.totals == Reconciliation.Totals(expected: .yuan(1225), collected: .yuan(1225), deposited: .yuan(1225), variance: .zero))
    }

    @Test func twoDepositsUnderOneReferenceShareNoLine() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        try Depot.deliver(v7, Depot.t1, cash: .yuan(1130))
        try v7.deposit(.yuan(95), bankRef: "DUP-1")
        let v8 = try d.van("van-08", route: "R08")
        try Depot.deliver(v8, Depot.t3, cash: .yuan(95))
        try v8.deposit(.yuan(95), bankRef: "DUP-1")  // each handheld only knows its own references
        try d.sync(v7)
        try d.sync(v8)
        try d.importBank(["2026-11-28,6222,95.00,DUP-1"])
        let rec = try d.reconcile()
        let unmatched = rec.settlements.flatMap { $0.exceptions(.depositUnmatched) }
        #expect(unmatched.map(\.event) == ["van-08/deposit/DUP-1"], "\(unmatched)")
    }

    @Test func aVoidedDepositTakesNoBankLine() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1130), bankRef: "A-1")
        try v.void("van-07/deposit/A-1", reason: "wrong slip")
        try v.deposit(.yuan(1130), bankRef: "B-1")
        try d.close(v)
        try d.sync(v)
        // One line, neither reference: van-07/deposit/A-1 sorts first, but it no longer counts.
        try d.importBank(["2026-11-28,6222,1130.00,BANK-9"])
        let rec = try d.reconcile()
        let s = try rec.settlement("van-07")
        #expect(s.exceptions.isEmpty, "\(s.exceptions)")
        #expect(s.cash.deposited == .yuan(1130))  // 1130.00 + 1130.00 − 1130.00 voided
        #expect(rec.unmatchedBankLines.isEmpty)
    }

    @Test func importingTheSameStatementTwiceAddsNothing() throws {
        let d = try Depot()
        let lines = ["2026-11-28,6222,1130.00,ICBC-0001", "2026-11-28,6222,95.00,ICBC-0002", "2026-11-28,6222,95.00,ICBC-0002"]
        #expect(try d.importBank(lines) == 3)  // two identical lines are two payments
        #expect(try d.importBank(lines) == 0)
        #expect(try d.importBank(lines, file: "renamed.csv") == 0)
        #expect(try d.store.bankLines().count == 3)
        // A statement overlapping the first adds only its new line.
        #expect(try d.importBank(["2026-11-28,6222,1130.00,ICBC-0001", "2026-11-29,6222,12.50,ICBC-0003"]) == 1)
        #expect(try d.store.bankLines().map(\.reference).sorted() == ["ICBC-0001", "ICBC-0002", "ICBC-0002", "ICBC-0003"])
    }
}
