import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes
@testable import TallyReconcile

/// Each exception kind, produced through the van's public operations where they allow it and by
/// a hand-written ledger entry (what a faulty device could send) where `VanBook` refuses.
@Suite struct ReconcileExceptionTests {
    /// The standard R07 day, deposited in full (1130.00, `ref`), closed, not yet synced.
    static func closedDay(_ d: Depot, ref: String = "ICBC-0001", load: [String: Int] = [:]) throws -> VanBook {
        let v = try d.van("van-07")
        try Depot.workR07(v, load: load)
        try v.deposit(.yuan(1130), bankRef: ref)
        try d.close(v)
        return v
    }

    // MARK: - missing_signature

    @Test func aSignatureImageNotAtTheDepotIsMissing() throws {
        let d = try Depot()
        let v = try Self.closedDay(d)
        try d.sync(v, blobs: false)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0001"])

        let s = try d.reconcile().settlement("van-07")
        let missing = s.exceptions(.missingSignature)
        #expect(s.kinds == [.missingSignature, .missingSignature], "\(s.exceptions)")
        #expect(missing.map(\.ticket) == [Depot.t1, Depot.t2])
        #expect(missing.map(\.event) == ["van-07/deliver/T0001", "van-07/deliver/T0002"])
        #expect(missing.allSatisfy { $0.detail.contains("has not reached the depot") })
        #expect(s.status == .balanced)  // the money is right; the image is still asked for

        // The image arrives: the exception goes.
        for t in [Depot.t1, Depot.t2] {
            try d.replica.putBlob(try #require(try v.replica.blob(BlobHash.sha256Hex(Depot.signature(for: t)))))
        }
        #expect(try d.reconcile().settlement("van-07").exceptions.isEmpty)
    }

    @Test func aDeliveryThatDoesNotBindItsSignatureIsMissingIt() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        let real = try Depot.deliver(v, Depot.t1, cash: .yuan(1130))
        // A hand-written delivery of T0002 whose `ref` is not the handover's signature.
        var h = real.handover
        h.ticket = Depot.t2
        h.customer = "C10024"
        h.customerName = "李家超市"
        h.payment = "electronic"
        h.lines = [Handover.Line(product: Depot.zhonghua, name: "中华(硬)", ordered: 1, delivered: 1, short: 0, unitPrice: .yuan(450))]
        h.value = .yuan(450)
        h.cash = .zero
        let json = h.canonicalJSON()
        try Depot.writeEvent(v.replica, id: "van-07/deliver/T0002", [
            "route": "R07", "ticket": "T0002", "kind": "deliver", "device": "van-07", "at": "2026-11-28T09:30:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "due": 45_000, "qty": 1, "ref": .text(String(repeating: "0", count: 64)),
            "detail": .text(json), "hash": .text(Handover.hash(of: json))])
        try d.sync(v)

        let s = try d.reconcile().settlement("van-07")
        let missing = s.exceptions(.missingSignature)
        #expect(missing.count == 1, "\(s.exceptions)")
        #expect(missing.first?.ticket == Depot.t2 && missing.first?.event == "van-07/deliver/T0002")
        #expect(missing.first?.detail.contains("does not bind") == true, "\(missing)")
        // Nothing of T0002 was scanned, yet 1 carton was handed over.
        #expect(s.exceptions(.cartonMismatch).contains { $0.ticket == Depot.t2 && $0.detail.contains("1 cartons handed over but only 0 scanned") },
                "\(s.exceptions)")
    }

    // MARK: - carton_mismatch

    @Test func aCartonScannedForAnotherTicketOrOnNoTicketIsAMismatch() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        _ = try v.scan(Depot.t1, codes: [Depot.a1, Depot.a2, Depot.b1])
        // VanBook refuses both of these; a faulty handheld could still send them.
        try Depot.writeEvent(v.replica, id: "van-07/scan/\(Depot.c1)", [
            "route": "R07", "ticket": "T0001", "kind": "scan", "device": "van-07", "at": "2026-11-28T09:01:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "ref": .text(Depot.c1), "product": .text(Depot.zhonghua)])
        let unknown = "C10023-6901028075015-0099"
        try Depot.writeEvent(v.replica, id: "van-07/scan/\(unknown)", [
            "route": "R07", "ticket": "T0001", "kind": "scan", "device": "van-07", "at": "2026-11-28T09:02:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "ref": .text(unknown)])
        _ = try v.deliver(DeliveryRequest(ticket: Depot.t1, signature: Depot.signature, cash: .yuan(1130)))
        try d.sync(v)

        let s = try d.reconcile().settlement("van-07")
        let c = s.exceptions(.cartonMismatch)
        #expect(c.count == 2, "\(c)")
        #expect(c.contains { $0.ticket == Depot.t1 && $0.event == "van-07/scan/\(Depot.c1)"
                && mentions($0.detail, "carton \(Depot.c1)", "belongs to ticket T0002", "T0001") }, "\(c)")
        #expect(c.contains { $0.ticket == Depot.t1 && $0.event == "van-07/scan/\(unknown)"
                && mentions($0.detail, "carton \(unknown)", "is on no ticket") }, "\(c)")
    }

    // MARK: - short_delivery

    @Test func aDeclaredShortageIsAShortDeliveryExplainedAtLoadOut() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try v.vehicleCheck(fault: nil)
        try v.logOdometer(10_000, note: nil)
        // One 中华 carton was missing at loading: counted 2 of 3 (2 on T0001 + 1 on T0002).
        _ = try v.loadOut(counts: [Depot.zhonghua: 2])
        // T0001: a1 and b1 scanned, a2 declared short: value 1 × 450.00 + 1 × 230.00 = 680.00.
        try Depot.deliver(v, Depot.t1, cash: .yuan(680), short: [Depot.zhonghua: 1], scan: [Depot.a1, Depot.b1])
        try Depot.deliver(v, Depot.t2)
        try v.deposit(.yuan(680), bankRef: "ICBC-0006")
        try d.close(v)
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,680.00,ICBC-0006"])

        let s = try d.reconcile().settlement("van-07")
        #expect(s.kinds == [.shortDelivery], "\(s.exceptions)")
        let x = try #require(s.exceptions.first)
        #expect(x.ticket == Depot.t1 && x.event == "van-07/deliver/T0001")
        #expect(mentions(x.detail, "1 × 中华(硬) (6901028075015) short", "value 680.00 instead of 1130.00"), "\(x.detail)")
        // expected = collected = deposited = 680.00: balanced. Load-out difference −1 = −(1 declared short): no load_variance.
        #expect(s.status == .balanced)
        #expect(s.cash == Settlement.Cash(expected: .yuan(680), collected: .yuan(680), deposited: .yuan(680), variance: .zero))
        // loaded 2 + 1 = 3; handed over (1 + 1) on T0001 + 1 on T0002 = 3; short 1.
        #expect(s.load == Settlement.Load(manifest: 4, loaded: 3, delivered: 3, returned: 0, short: 1))
    }

    // MARK: - load_variance

    @Test(arguments: [
        // One 玉溪 carton too many loaded: counted 2 where the manifest says 1, nothing declared short.
        ([Depot.yuxi: 2], [String: Int](), 5, "(6901028075022): loaded 2, manifest 1, declared short at shops 0"),
        // Counted 1 中华 of 3, but only 1 declared short at a shop: −2 ≠ −1.
        ([Depot.zhonghua: 1], [Depot.zhonghua: 1], 2, "(6901028075015): loaded 1, manifest 3, declared short at shops 1"),
        // All loaded, yet 1 declared short at a shop: 0 ≠ −1.
        ([:], [Depot.zhonghua: 1], 4, "(6901028075015): loaded 3, manifest 3, declared short at shops 1"),
    ])
    func aLoadOutDifferenceNotExplainedByAShortageIsAVariance(load: [String: Int], short: [String: Int], loaded: Int, detail: String) throws {
        let d = try Depot()
        let v = try d.van("van-07")
        _ = try v.loadOut(counts: load)
        let scans = short.isEmpty ? Depot.cartons(Depot.t1) : [Depot.a1, Depot.b1]
        let value: Money = short.isEmpty ? .yuan(1130) : .yuan(680)  // 1130.00, or 680.00 with one 中华 short
        try Depot.deliver(v, Depot.t1, cash: value, short: short, scan: scans)
        try v.deposit(value, bankRef: "ICBC-0007")
        try d.close(v)
        try d.sync(v)

        let s = try d.reconcile().settlement("van-07")
        let lv = s.exceptions(.loadVariance)
        #expect(lv.count == 1 && mentions(lv.first?.detail ?? "", detail), "\(s.exceptions)")
        #expect(lv.first?.event == "van-07/load_out/2026-11-28")
        #expect(s.load.loaded == loaded)
    }

    // MARK: - cash_mismatch

    @Test func aPartPaymentOpensTheShopsBalanceWithItsReason() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v, cashT1: .yuan(1000), partial: "店主现金不足，余款下次结清")
        try v.deposit(.yuan(1000), bankRef: "ICBC-0008")
        try d.close(v)
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1000.00,ICBC-0008"])

        let s = try d.reconcile().settlement("van-07")
        // expected 1130.00 (the value handed over); collected 1000.00; deposited 1000.00; variance 0.00.
        #expect(s.cash == Settlement.Cash(expected: .yuan(1130), collected: .yuan(1000), deposited: .yuan(1000), variance: .zero))
        #expect(s.status == .balanced)
        // The rest is not lost nor a cash difference: the shop owes it, from now on.
        #expect(s.kinds == [.receivableOpened], "\(s.exceptions)")
        let x = try #require(s.exceptions.first)
        #expect(x.ticket == Depot.t1 && x.event == "van-07/deliver/T0001")
        #expect(mentions(x.detail, "张记便利店 (C10023) owes 130.00 on T0001", "130.00 unpaid", "店主现金不足，余款下次结清"), "\(x.detail)")
        #expect(s.receivables == Settlement.Receivable(opened: .yuan(130), settled: .zero))
    }

    @Test func cashOnAnElectronicTicketIsACashMismatch() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        let real = try Depot.deliver(v, Depot.t2)
        // A hand-written second delivery of T0002 claiming 450.00 cash on an electronic ticket.
        var h = real.handover
        h.cash = .yuan(450)
        let json = h.canonicalJSON()
        try Depot.writeEvent(v.replica, id: "van-07/deliver/T0002#2", [
            "route": "R07", "ticket": "T0002", "kind": "deliver", "device": "van-07", "at": "2026-11-28T09:30:00.000+08:00",
            "day": "2026-11-28", "amount": 45_000, "due": 45_000, "qty": 1, "ref": .text(h.signature),
            "detail": .text(json), "hash": .text(Handover.hash(of: json))])
        try d.sync(v)
        let s = try d.reconcile().settlement("van-07")
        #expect(s.exceptions(.cashMismatch).contains { $0.event == "van-07/deliver/T0002#2" && mentions($0.detail, "450.00 cash", "paid electronically") },
                "\(s.exceptions)")
    }

    // MARK: - return_exceeds_delivery

    @Test func aHandWrittenReturnBeyondTheDeliveryIsFlagged() throws {
        let d = try Depot()
        let v = try Self.closedDayOpen(d)
        // 1 × 中华 delivered on T0002 (electronic); a legitimate return of 1 through VanBook...
        let ok = try v.returnGoods(Depot.t2, product: Depot.zhonghua, qty: 1, reason: "damaged")
        #expect(ok.due == .yuan(450) && ok.amount == .zero)
        try d.sync(v)
        #expect(try d.reconcile().settlement("van-07").exceptions(.returnExceedsDelivery).isEmpty)
        // ...then a hand-written one of 1 more: 2 returned of 1 delivered.
        try Depot.writeEvent(v.replica, id: "van-07/return/T0002#2", [
            "route": "R07", "ticket": "T0002", "kind": "return", "device": "van-07", "at": "2026-11-28T15:00:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "due": 45_000, "qty": 1, "product": .text(Depot.zhonghua), "reason": "damaged"])
        try d.sync(v)
        let s = try d.reconcile().settlement("van-07")
        let over = s.exceptions(.returnExceedsDelivery)
        #expect(over.count == 1 && over.first?.ticket == Depot.t2, "\(s.exceptions)")
        #expect(mentions(over.first?.detail ?? "", "2 × 6901028075015 returned", "1 delivered"), "\(over)")
        #expect(s.load.returned == 2)
        // T0002 is electronic: no credit comes off the cash expected, no cash was paid back.
        #expect(s.cash.expected == .yuan(1130) && s.cash.collected == .yuan(1130))
    }

    /// The standard R07 day, not closed.
    static func closedDayOpen(_ d: Depot) throws -> VanBook {
        let v = try d.van("van-07")
        try Depot.workR07(v)
        return v
    }

    @Test func twoVansOfARouteEachReturningTheOneDeliveredCartonIsFlagged() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v17 = try d.van("van-17")
        try Depot.deliver(v7, Depot.t2)
        try d.sync(v7)
        try d.pull(v17)
        // Each van sees 1 delivered and none returned yet, so each accepts a return of 1.
        try v7.returnGoods(Depot.t2, product: Depot.zhonghua, qty: 1, reason: "damaged")
        try v17.returnGoods(Depot.t2, product: Depot.zhonghua, qty: 1, reason: "wrong_goods")
        try d.sync(v7)
        try d.sync(v17)

        let rec = try d.reconcile()
        // 1 + 1 = 2 returned on T0002 of 1 delivered: the route's settlements must say so.
        let flagged = rec.settlements.flatMap { $0.exceptions(.returnExceedsDelivery) }
        #expect(!flagged.isEmpty, "\(rec.settlements.map(\.exceptions))")
        #expect(flagged.allSatisfy { $0.ticket == Depot.t2 })
    }

    /// A relief van of the route takes back a carton another van of the route delivered:
    /// `VanBook.returnGoods` accepts it (it reads the ticket's ledger across devices), and 1
    /// returned of 1 delivered is not "more of a product returned on a ticket than was delivered"
    /// (docs/RECONCILE.md). The reconciler compares the relief van's returns with its own
    /// deliveries only.
    @Test func aReliefVansReturnOfAnotherVansDeliveryIsNotFlagged() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v17 = try d.van("van-17")
        try Depot.deliver(v7, Depot.t2)
        try d.sync(v7)
        try d.pull(v17)
        try v17.returnGoods(Depot.t2, product: Depot.zhonghua, qty: 1, reason: "damaged")
        try d.sync(v17)

        let rec = try d.reconcile()
        let flagged = rec.settlements.flatMap { s in s.exceptions(.returnExceedsDelivery).map { "\(s.device): \($0.detail)" } }
        #expect(flagged.isEmpty, "1 returned of 1 delivered on T0002 flagged: \(flagged)")
    }

    // MARK: - conflict

    @Test func oneVanDeliversAndAnotherRefusesTheSameTicket() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v17 = try d.van("van-17")
        try Depot.deliver(v7, Depot.t2)
        try v17.refuse(Depot.t2, reason: "closed")
        try d.sync(v7)
        try d.sync(v17)
        #expect(try d.replica.conflicts().map(\.key) == [Depot.t2])

        let rec = try d.reconcile()
        #expect(rec.settlements.map(\.device) == ["van-07", "van-17"])
        for s in rec.settlements {
            let c = s.exceptions(.conflict)
            #expect(c.count == 1, "\(s.device): \(s.exceptions)")
            #expect(c.first?.ticket == Depot.t2)
            #expect(c.first?.detail.contains("delivered") == true && c.first?.detail.contains("refused") == true, "\(c)")
            // Route-wide counts: T0002 delivered by van-07 and refused by van-17; T0001 open.
            #expect(s.tickets == Settlement.Tickets(planned: 2, delivered: 1, refused: 1, open: 1))
        }
    }

    @Test func aLedgerEntryArrivingTwiceWithDifferentContentIsAConflict() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v17 = try d.van("van-17")
        try v7.logOdometer(10_000, note: nil)
        // Another replica sends an entry under the same id with other content.
        try Depot.writeEvent(v17.replica, id: "van-07/odometer/2026-11-28", [
            "route": "R07", "kind": "odometer", "device": "van-07", "at": "2026-11-28T09:00:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "qty": 99_999])
        try d.sync(v7)
        try d.sync(v17)
        #expect(try d.replica.violations().count == 1)

        let s = try d.reconcile([Depot.device("van-07", "R07")]).settlement("van-07")
        let c = s.exceptions(.conflict)
        #expect(c.count == 1, "\(s.exceptions)")
        #expect(c.first?.event == "van-07/odometer/2026-11-28")
        #expect(c.first?.detail.contains("arrived twice with different content") == true)
    }

    // MARK: - late_event

    @Test func anEntryArrivingAfterApprovalIsALateEventAndTheDayStaysApproved() throws {
        let d = try Depot()
        let v = try Self.closedDay(d, ref: "ICBC-0009")
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0009"])
        d.set("2026-11-29T10:00:00+08:00")
        let r = try d.reconciler()
        let a = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil)

        // An odometer entry for the 28th reaches the depot after the approval.
        try Depot.writeEvent(v.replica, id: "van-07/odometer/2026-11-28#3", [
            "route": "R07", "kind": "odometer", "device": "van-07", "at": "2026-11-28T19:00:00.000+08:00",
            "day": "2026-11-28", "amount": 0, "qty": 10_050])
        try d.sync(v)

        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.status == .approved)
        #expect(s.approval == a)
        let late = s.exceptions(.lateEvent)
        #expect(late.count == 1, "\(s.exceptions)")
        #expect(late.first?.event == "van-07/odometer/2026-11-28#3")
        #expect(mentions(late.first?.detail ?? "", "odometer", "王会计", "2026-11-29 10:00"), "\(late)")
        // Still approved: approving again is refused until reopened.
        expectRefusal("already approved") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "again") }
    }

    @Test func aLateDepositIsListedWithItsAmount() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1000), bankRef: "ICBC-0010")
        try d.close(v)
        try d.sync(v)
        let r = try d.reconciler()
        _ = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "130.00 to follow")
        try Depot.writeEvent(v.replica, id: "van-07/deposit/ICBC-0011", [
            "route": "R07", "kind": "deposit", "device": "van-07", "at": "2026-11-29T08:30:00.000+08:00",
            "day": "2026-11-28", "amount": 13_000, "ref": "ICBC-0011"])
        try d.sync(v)
        let s = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(s.status == .approved)
        #expect(s.approval?.variance == Money(minorUnits: -13_000))  // what was approved: 1000.00 − 1130.00
        #expect(s.exceptions(.lateEvent).contains {
            $0.event == "van-07/deposit/ICBC-0011" && mentions($0.detail, "deposit", "130.00", "2026-11-29 08:30")
        },
                "\(s.exceptions)")
    }

    // MARK: - unsynced_device

    @Test func aDeviceThatHasNotClosedIsUnsynced() throws {
        let d = try Depot()
        let v = try Self.closedDayOpen(d)
        try v.deposit(.yuan(1130), bankRef: "ICBC-0012")
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0012"])
        let s = try d.reconcile([Depot.device("van-07", "R07", lastSyncAt: "2026-11-28T16:00:00+08:00")]).settlement("van-07")
        #expect(s.status == .pending)
        #expect(s.kinds == [.unsyncedDevice], "\(s.exceptions)")
        #expect(mentions(s.exceptions.first?.detail ?? "", "van-07 has not closed 2026-11-28", "last sync 2026-11-28 16:00"), "\(s.exceptions)")

        // The close arrives: balanced, no exception.
        try d.close(v)
        try d.sync(v)
        let after = try d.reconcile([Depot.device("van-07", "R07")]).settlement("van-07")
        #expect(after.status == .balanced)
        #expect(after.exceptions.isEmpty, "\(after.exceptions)")
    }

    // MARK: - deposit_unmatched

    @Test func aDepositWithNoBankLineIsUnmatched() throws {
        let d = try Depot()
        let v = try Self.closedDay(d, ref: "ICBC-0013")
        try d.sync(v)
        let s = try d.reconcile().settlement("van-07")
        #expect(s.kinds == [.depositUnmatched], "\(s.exceptions)")
        #expect(s.exceptions.first?.event == "van-07/deposit/ICBC-0013")
        #expect(mentions(s.exceptions.first?.detail ?? "", "deposit 1130.00", "ICBC-0013", "no line on an imported bank statement"), "\(s.exceptions)")
        #expect(s.status == .balanced)  // deposited is what the van says; the bank's word is the exception
    }

    @Test func aBankLineOfAnotherAmountIsUnmatched() throws {
        let d = try Depot()
        let v = try Self.closedDay(d, ref: "ICBC-0014")
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1100.00,ICBC-0014"])
        let rec = try d.reconcile()
        let s = try rec.settlement("van-07")
        #expect(s.kinds == [.depositUnmatched], "\(s.exceptions)")
        #expect(mentions(s.exceptions.first?.detail ?? "", "deposit 1130.00", "ICBC-0014", "says 1100.00"), "\(s.exceptions)")
        #expect(rec.unmatchedBankLines.isEmpty)  // the line was matched, by its reference
    }

    // MARK: - clock_skew

    @Test(arguments: [
        (Int64(300_000), nil as String?),
        (Int64(-300_000), nil),
        (Int64(300_001), "van-07's clock was 5 min 00 s ahead"),
        (Int64(-420_000), "van-07's clock was 7 min 00 s behind"),
    ])
    func aClockMoreThanFiveMinutesOffIsASkew(skew: Int64, detail: String?) throws {
        let d = try Depot()
        let v = try Self.closedDay(d, ref: "ICBC-0015")
        try d.sync(v)
        try d.importBank(["2026-11-28,6222,1130.00,ICBC-0015"])
        let s = try d.reconcile([Depot.device("van-07", "R07", skew: skew)]).settlement("van-07")
        let skewed = s.exceptions(.clockSkew)
        #expect(skewed.count == (detail == nil ? 0 : 1), "\(s.exceptions)")
        if let detail { #expect(mentions(skewed.first?.detail ?? "", detail), "\(skewed)") }
        #expect(s.status == .balanced)
    }
}
