import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Fees at a window are cash ledger entries: deposited, voided and summed like a van's cash.
@Suite struct WindowCashTests {
    @Test func feesDepositsAndVoidsKeepTheCashOnHand() throws {
        let h = try Hall()
        let w = try h.window("W1", kind: "facilities")
        let r = try w.take(service: "crate_deposit")
        try expectRefused(w.replica, "crate_deposit (周转箱押金)") { _ = try w.fee("parking", amount: .yuan(5)) }
        try expectRefused(w.replica, "more than 0.00") { _ = try w.fee("card", amount: .zero) }
        try expectRefused(w.replica, "no request") { _ = try w.fee("card", amount: .yuan(5), request: "W9-001") }
        let meal = try w.fee("crate_deposit", amount: .yuan(100), request: r.queue, payer: "王小明")
        let water = try w.fee("card", amount: Money(minorUnits: 2340))
        let e = try w.replica.row("events", key: meal)
        #expect(e?["window"].text == "facilities" && e?["route"].isNull == true && e?["ref"].text == r.id && e?["due"].integer == 10_000)
        try expectRefused(w.replica, "more than the 123.40 cash on hand") { _ = try w.deposit(.yuan(200), bankRef: "B1") }
        _ = try w.deposit(.yuan(100), bankRef: "ICBC-9")
        try expectRefused(w.replica, "already recorded") { _ = try w.deposit(Money(minorUnits: 2340), bankRef: "ICBC-9") }
        try expectRefused(w.replica, "already deposited") { _ = try w.void(meal, reason: "typo") }
        _ = try w.void(water, reason: "收错了")
        try expectRefused(w.replica, "already voided") { _ = try w.void(water, reason: "again") }
        let s = try w.daySummary()
        #expect(s.cashCollected == .yuan(100) && s.cashDeposited == .yuan(100) && s.cashOnHand == .zero)
        #expect(s.fees.map(\.fee) == ["crate_deposit"] && s.explained.contains { $0.contains("收错了") })
        #expect(s.unexplained.contains { $0.contains("never served") })
    }

    @Test func cashLeftOnHandMustBePlacedAtTheClose() throws {
        let h = try Hall()
        let w = try h.window("W1", kind: "facilities")
        _ = try w.fee("redelivery", amount: .yuan(80))
        #expect(try w.daySummary().unexplained.contains { $0.contains("tally window deposit 80.00") })
        try expectRefused(w.replica, "cannot be closed with 80.00 cash on hand: deposit it (`tally window deposit 80.00") {
            _ = try w.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        }
        let (id, s) = try w.closeDay(unsynced: Unsynced(changes: 0, blobs: 0), carry: .yuan(80), reason: "银行已关门")
        #expect(s.cashOnHand == .zero && s.explained.contains("80.00 carried over to the next day: 银行已关门"))
        let row = try w.replica.row("events", key: id)
        #expect(row?["kind"].text == "close_day" && row?["window"].text == "facilities" && row?["amount"].integer == 0)
        // The next day opens with the 80.00.
        h.clock.set(IsoTime.parse("2026-11-28T09:00:00+08:00") ?? 0)
        #expect(try w.daySummary().cashOnHand == .yuan(80))
    }
}
