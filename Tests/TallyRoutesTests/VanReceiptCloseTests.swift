import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Receipts (the proof of a handover) and closing the day.
@Suite struct VanReceiptCloseTests {
    typealias F = VanFixture

    // MARK: - Receipt

    @Test func aReceiptVerifiesAfterADelivery() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        let before = try v.state()
        let r = try v.book.receipt(F.t1, verify: true)
        #expect(try v.state() == before, "a receipt records nothing")
        #expect(r.event == d.event && r.handover == d.handover && r.hash == d.hash && r.returns.isEmpty)
        let checks = try #require(r.checks)
        #expect(checks.map(\.check) == ["hash", "amounts", "ticket", "issued", "signature"])
        #expect(checks.allSatisfy { $0.ok }, "\(checks)")
        #expect(r.verified == true)
        let plain = try v.book.receipt(F.t1, verify: false)
        #expect(plain.checks == nil && plain.verified == nil)
    }

    @Test func aSignedDeliveryVerifiesOfflineAgainstTheDevicesKeyAndAnEditFails() throws {
        let v = try VanFixture()
        try DeviceKey.generate().store(in: v.replica)
        let book = try VanBook.joined(v.replica, clock: v.clock)
        _ = try book.scan(F.t1, codes: [F.a1, F.a2, F.b1])
        let d = try book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, signer: "张老板", cash: Money(minorUnits: 113_000)))
        var checks = try #require(try book.receipt(F.t1, verify: true).checks)
        #expect(checks.map(\.check) == ["hash", "amounts", "ticket", "issued", "signature", "device signature"])
        #expect(checks.allSatisfy { $0.ok }, "\(checks)")
        // The cash lowered in the file, the handover's own amounts too: only the device's
        // signature still tells.
        let detail = try #require(try v.replica.row("events", key: d.event)?["detail"].text)
        let forged = detail.replacingOccurrences(of: "\"cash\":\"1130.00\"", with: "\"cash\":\"113.00\"")
        #expect(forged != detail)
        let path = v.replica.path
        try v.replica.close()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [path, "UPDATE events SET amount = 11300, detail = '\(forged.replacingOccurrences(of: "'", with: "''"))', hash = '\(Handover.hash(of: forged))' WHERE id = '\(d.event)'"]
        try p.run()
        p.waitUntilExit()
        let reopened = try VanBook.joined(try Replica.open(at: path, options: .quiet(wallClock: v.clock)), clock: v.clock)
        checks = try #require(try reopened.receipt(F.t1, verify: true).checks)
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.check, $0) })
        #expect(byName["device signature"]?.ok == false)
        #expect(byName["device signature"]?.detail.contains("changed after it was signed") == true)
    }

    @Test func aTicketChangedAfterTheHandoverFailsTheTicketCheck() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.replica.write { try $0.update("ticket_lines", key: "T0001/1", ["quantity": 5]) }
        let r = try v.book.receipt(F.t1, verify: true)
        let checks = try #require(r.checks)
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.check, $0) })
        #expect(byName["ticket"]?.ok == false)
        #expect(byName["ticket"]?.detail.contains("line 1 is now \(F.zhonghua) × 5 at 450.00, was \(F.zhonghua) × 2 at 450.00") == true)
        #expect(byName["hash"]?.ok == true && byName["amounts"]?.ok == true && byName["signature"]?.ok == true)
        #expect(r.verified == false)
    }

    @Test func aChangedPaymentOrPriceFailsTheTicketCheckToo() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.replica.write { tx in
            try tx.update("tickets", key: "T0001", ["payment": "electronic"])
            try tx.update("ticket_lines", key: "T0001/2", ["unit_price": 20_000])
        }
        let ticket = try #require(try v.book.receipt(F.t1, verify: true).checks?.first { $0.check == "ticket" })
        #expect(!ticket.ok)
        #expect(ticket.detail.contains("payment is now electronic") && ticket.detail.contains("line 2 is now \(F.yuxi) × 1 at 200.00"))
    }

    @Test func anUndeliveredTicketHasNoReceipt() throws {
        let v = try VanFixture()
        try v.expectRefused("T0001 has not been delivered yet, so it has no receipt") { try v.book.receipt(F.t1, verify: true) }
        let d = try v.deliverT1()
        try v.book.void(d.event, reason: "mistake")
        try v.expectRefused("has not been delivered yet") { try v.book.receipt(F.t1, verify: false) }
        try v.expectRefused("no ticket T9999") { try v.book.receipt("T9999", verify: true) }
    }

    // MARK: - Closing the day

    @Test func theDayIsNotClosedWhileAnythingIsUnsynced() throws {
        let v = try VanFixture()
        try v.expectRefused("the day cannot be closed", "3 changes and 1 image not synced", "tally sync") {
            try v.book.closeDay(unsynced: Unsynced(changes: 3, blobs: 1))
        }
        try v.expectRefused("1 change not synced", "tally sync") { try v.book.closeDay(unsynced: Unsynced(changes: 1, blobs: 0)) }
        try v.expectRefused("2 images not synced") { try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 2)) }
        #expect(try v.book.workingDay()?.closed == false)
        #expect(try v.events(.closeDay).isEmpty)
    }

    @Test func closingRecordsTheSummary() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.book.deposit(.yuan(1130), bankRef: "B-1")
        v.set("2026-11-28T18:00:00+08:00")
        let trial = try v.book.daySummary()
        let (id, s) = try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        #expect(id == "van-07/close_day/2026-11-28")
        #expect(s == trial, "closing records what the trial showed")
        let e = try v.event(id)
        #expect(e["kind"] == "close_day" && e["at"] == "2026-11-28T18:00:00.000+08:00" && e["day"] == .text(F.day))
        #expect(try JSONDecoder().decode(DaySummary.self, from: Data(try #require(e["detail"].text).utf8)) == s)
        #expect(e["amount"] == .integer(0) && e["due"] == .integer(s.cashDue.minorUnits) && e["qty"] == .integer(1))
        #expect(e["note"] == .text("\(s.unexplained.count) unexplained"))
        #expect(try v.book.workingDay() == WorkingDay(date: F.day, closed: true))
        #expect(s.day == F.day && s.route == "R07" && s.device == "van-07")
    }

    @Test func nothingMoreIsRecordedOnAClosedDay() throws {
        let v = try VanFixture()
        let d = try v.deliverT2()
        _ = try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        let closed = "the day 2026-11-28 is closed"
        try v.expectRefused(closed) { try v.book.scan(F.t1, codes: [F.a1]) }
        try v.expectRefused(closed) { try v.book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, cash: .yuan(1130))) }
        try v.expectRefused(closed) { try v.book.refuse(F.t1, reason: "closed") }
        try v.expectRefused(closed) { try v.book.returnGoods(F.t2, product: F.zhonghua, qty: 1, reason: "damaged") }
        try v.expectRefused(closed) { try v.book.void(d.event, reason: "mistake") }
        try v.expectRefused(closed) { try v.book.loadOut(counts: [:]) }
        try v.expectRefused(closed) { try v.book.vehicleCheck(fault: nil) }
        try v.expectRefused(closed) { try v.book.logOdometer(1, note: nil) }
        try v.expectRefused(closed) { try v.book.deposit(.yuan(1), bankRef: "B1") }
        try v.expectRefused(closed) { try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0)) }
        // Reading still works.
        #expect(try v.book.receipt(F.t2, verify: true).verified == true)
        #expect(try v.book.tickets().count == 2)
    }

    @Test func closingMovesOnToTheNextDay() throws {
        let t3 = ManifestTests.t2.replacingOccurrences(of: "T0002", with: "T0003")
            .replacingOccurrences(of: "2026-11-28", with: "2026-11-29")
            .replacingOccurrences(of: "-0001", with: "-0002")
        let v = try VanFixture(manifest: VanFixture.standardLines + [t3])
        try v.book.vehicleCheck(fault: nil)
        _ = try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        #expect(try v.book.workingDay() == WorkingDay(date: "2026-11-29", closed: false))
        #expect(try v.book.tickets().map(\.ticket) == ["T0003"])
        try v.expectRefused("T0001 is for 2026-11-28, not today (2026-11-29)") { try v.book.scan(F.t1, codes: [F.a1]) }
        v.set("2026-11-29T09:00:00+08:00")
        #expect(try v.book.scan("T0003", codes: ["C10024-6901028075015-0002"]).map(\.result) == [.accepted])
    }

    @Test func theSummaryListsWhatIsUnexplainedAndWhatIsExplained() throws {
        let v = try VanFixture()
        try v.book.vehicleCheck(fault: nil)
        try v.book.logOdometer(100, note: nil)
        _ = try v.book.loadOut(counts: [:])
        try v.deliverT1(cash: .yuan(1000), partialReason: "客户只有1000元")
        let s = try v.book.daySummary()
        #expect(s.open == [F.t2])
        #expect(s.tickets == 2 && s.delivered == 1 && s.refused == 0)
        #expect(s.unexplained == [
            "ticket T0002 (李家超市) was neither delivered nor refused",
            "cash on hand 1000.00 is not deposited: pay it in and record it with `tally van deposit 1000.00 --bank-ref REF`, "
                + "or carry it over at the close (`close-day --carry`)",
        ])
        #expect(s.explained == ["ticket T0001: 1000.00 collected of 1130.00: 客户只有1000元"])
        #expect(s.partialPayments == [DaySummary.PartialPayment(ticket: F.t1, due: .yuan(1130), collected: .yuan(1000), reason: "客户只有1000元")])
    }

    @Test func refusalsAndReturnsAreExplained() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.book.returnGoods(F.t1, product: F.yuxi, qty: 1, reason: "damaged")
        try v.book.refuse(F.t2, reason: "other", note: "老板不在")
        let s = try v.book.daySummary()
        #expect(s.refused == 1 && s.open.isEmpty)
        #expect(s.explained.contains("ticket T0002 refused: 其他, 老板不在"))
        #expect(s.explained.contains("ticket T0001: 1 × \(F.yuxi) returned (货物破损), credit 230.00"))
    }

    @Test func aBalancedDayHasNothingUnexplained() throws {
        let v = try VanFixture()
        try v.book.vehicleCheck(fault: nil)
        try v.book.logOdometer(100, note: nil)
        _ = try v.book.loadOut(counts: [:])
        try v.deliverT1()
        try v.deliverT2()
        try v.book.logOdometer(160, note: nil)
        try v.book.deposit(.yuan(1130), bankRef: "B1")
        let (id, s) = try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        #expect(s.unexplained == [], "\(s.unexplained)")
        #expect(try v.event(id)["note"] == "balanced")
        #expect(s.cartonsExpected == 4 && s.cartonsScanned == 4 && s.cartonsShort == 0)
        #expect(s.odometerStart == 100 && s.odometerEnd == 160 && s.vehicleCheck == "ok")
    }

    @Test func cashFiguresReconcileToTheFen() throws {
        let v = try VanFixture()
        // T0001 (cash) is delivered for 1130.00, collected in full, then its 玉溪 (230.00) comes
        // back and is paid back in cash; T0002 (electronic) is delivered for 450.00 and its carton
        // comes back, credited, no cash; 500.01 is deposited.
        try v.deliverT1()
        try v.book.returnGoods(F.t1, product: F.yuxi, qty: 1, reason: "damaged")
        try v.deliverT2()
        try v.book.returnGoods(F.t2, product: F.zhonghua, qty: 1, reason: "over_ordered")
        try v.book.deposit(.yuan(500, 1), bankRef: "B1")
        let s = try v.book.daySummary()
        // The rest cannot stay on a closed day: the driver carries it to tomorrow, on purpose.
        let (id, closed) = try v.book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0), carry: .yuan(399, 99), reason: "明早存")
        #expect(closed.cashOnHand == .zero && closed.cashCarriedOver == .yuan(399, 99))
        #expect(s.valueDelivered == .yuan(1580))
        #expect(s.credited == .yuan(680))
        #expect(s.cashDue == .yuan(1130), "the electronic ticket is not cash due")
        #expect(s.cashCollected == .yuan(1130))
        #expect(s.cashPaidBack == .yuan(230), "only the cash ticket's return is paid back")
        #expect(s.cashDeposited == .yuan(500, 1))
        #expect(s.cashOnHand == .yuan(399, 99))
        #expect(s.cashCollected - s.cashPaidBack - s.cashDeposited == s.cashOnHand)
        #expect(s.returns == 2 && s.cartonsReturned == 2)
        let e = try v.event(id)
        #expect(e["amount"] == .integer(0) && e["due"] == .integer(113_000) && e["qty"] == .integer(2))
        #expect(s.unexplained.contains { $0.contains("cash on hand 399.99 is not deposited") })
    }
}
