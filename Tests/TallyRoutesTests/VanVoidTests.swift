import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// `VanBook.void`: a compensating entry, never an overwrite, under the rules of what may be voided.
@Suite struct VanVoidTests {
    typealias F = VanFixture

    @Test func aVoidNeedsAReasonAndAnEntryThatExists() throws {
        let v = try VanFixture()
        let scans = try v.book.scan(F.t1, codes: [F.a1])
        #expect(scans.count == 1)
        let id = "van-07/scan/\(F.a1)"
        try v.expectRefused("say why", "--reason TEXT") { try v.book.void(id, reason: "") }
        try v.expectRefused("say why") { try v.book.void(id, reason: "   ") }
        try v.expectRefused("there is no entry van-07/scan/NOPE", "tally van events") { try v.book.void("van-07/scan/NOPE", reason: "typo") }
    }

    @Test func aVoidIsAnEntryNamingTheVoidedOne() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1, F.a2])
        let id = "van-07/scan/\(F.a1)"
        let void = try v.book.void(id, reason: " scanned by mistake ")
        #expect(void == "van-07/void/\(id)")
        let e = try v.event(void)
        #expect(e["kind"] == "void" && e["ref"] == .text(id) && e["note"] == "scanned by mistake" && e["ticket"] == "T0001")
        #expect(try v.event(id)["kind"] == "scan", "the voided entry is kept as it was")
        #expect(try v.view(F.t1)?.cartonsScanned == 1)
        #expect(try v.book.events().first { $0.id == id }?.voidedBy == void)
        // The carton can be scanned again: a new entry with its own id.
        #expect(try v.book.scan(F.t1, codes: [F.a1]).map(\.result) == [.accepted])
        #expect(try v.replica.row("events", key: "\(id)#2") != nil)
        #expect(try v.view(F.t1)?.cartonsScanned == 2)
    }

    @Test func anEntryIsVoidedOnce() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1])
        let id = "van-07/scan/\(F.a1)"
        let void = try v.book.void(id, reason: "mistake")
        try v.expectRefused("\(id) is already voided (\(void))") { try v.book.void(id, reason: "again") }
        try v.expectRefused("is itself a void") { try v.book.void(void, reason: "undo") }
    }

    @Test func aRefusalTakenBackTheSameDayMakesTheTicketDeliverable() throws {
        let v = try VanFixture()
        let id = try v.book.refuse(F.t1, reason: "closed")
        try v.expectRefused("say why") { try v.book.void(id, reason: " ") }
        let void = try v.book.void(id, reason: "店主五分钟后回来了")
        #expect(try v.book.tickets().first { $0.ticket == F.t1 }?.status == "refusal taken back")
        let d = try v.deliverT1()
        // The column stays where the lattice put it; the ledger says delivered, and so does every view.
        #expect(try v.status(F.t1) == "refused")
        #expect(try v.book.tickets().first { $0.ticket == F.t1 }?.status == "delivered")
        #expect(try v.book.receipt(F.t1, verify: true).verified == true)
        // Both entries stay in the day's ledger.
        let all = try v.book.events()
        #expect(all.first { $0.id == id }?.voidedBy == void && all.contains { $0.id == d.event })
        #expect(try v.book.daySummary().refused == 0 && v.book.daySummary().delivered == 1)
    }

    @Test func aScanHandedOverIsNotVoided() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        try v.expectRefused("carton \(F.a1) was handed over with delivery \(d.event)", "void the delivery first") {
            try v.book.void("van-07/scan/\(F.a1)", reason: "mistake")
        }
    }

    @Test func aDeliveryWithReturnsIsNotVoided() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        let r = try v.book.returnGoods(F.t1, product: F.yuxi, qty: 1, reason: "damaged")
        try v.expectRefused("delivery \(d.event) has returns (\(r.id))", "void them first") { try v.book.void(d.event, reason: "wrong cash") }
        // Once the return is voided, the delivery can be.
        try v.book.void(r.id, reason: "not returned after all")
        try v.book.void(d.event, reason: "wrong cash")
        #expect(try v.events(.void).count == 2)
    }

    @Test func aVoidedDeliveryCanBeMadeAgainUnderANewID() throws {
        let v = try VanFixture()
        let first = try v.deliverT1(cash: .yuan(1000), partialReason: "short of cash")
        try v.book.void(first.event, reason: "the customer found the rest")
        #expect(try v.view(F.t1)?.status == "delivery voided")
        #expect(try v.view(F.t1)?.cashCollected == nil)
        let again = try v.book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, cash: .yuan(1130)))
        #expect(again.event == "van-07/deliver/T0001#2")
        #expect(again.event.hasSuffix("#2"))
        #expect(try v.view(F.t1)?.status == "delivered")
        #expect(try v.view(F.t1)?.cashCollected == .yuan(1130))
        #expect(try v.book.receipt(F.t1, verify: true).event == again.event)
        #expect(try v.cash().collected == .yuan(1130))
    }

    @Test func aVoidedEntryNoLongerCounts() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        #expect(try v.cash().collected == .yuan(1130))
        #expect(try v.book.daySummary().cashCollected == .yuan(1130))
        try v.book.void(d.event, reason: "recorded on the wrong ticket")
        #expect(try v.cash() == CashPosition(collected: .zero, paidBack: .zero, deposited: .zero))
        let s = try v.book.daySummary()
        #expect(s.cashCollected == .zero && s.cashDue == .zero && s.valueDelivered == .zero && s.delivered == 0)
        #expect(s.open == [F.t1, F.t2])
        // Nothing delivered, so nothing can be returned on it either.
        try v.expectRefused("has not been delivered") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged") }
        #expect(try v.book.tickets().map(\.cartonsScanned) == [3, 0], "the scans still count")
    }

    @Test func aVoidedDepositReturnsTheCashOnHand() throws {
        let v = try VanFixture()
        try v.deliverT1()
        let dep = try v.book.deposit(.yuan(1000), bankRef: "ICBC-0001")
        #expect(try v.cash().onHand == .yuan(130))
        try v.book.void(dep, reason: "wrong amount")
        #expect(try v.cash().onHand == .yuan(1130))
        // The bank reference is free again once its deposit is voided.
        try v.book.deposit(.yuan(1130), bankRef: "ICBC-0001")
        #expect(try v.cash().onHand == .zero)
    }

    @Test func onlyTheRecordingDeviceVoidsOnItsRouteAndDay() throws {
        let v = try VanFixture()
        try v.replica.write { tx in
            try tx.insert("events", key: "van-08/scan/X", ["route": "R07", "kind": "scan", "device": "van-08", "day": .text(F.day), "at": .text(F.morning)])
            try tx.insert("events", key: "van-09/scan/Y", ["route": "R09", "kind": "scan", "device": "van-09", "day": .text(F.day), "at": .text(F.morning)])
            try tx.insert("events", key: "van-07/odometer/old", ["route": "R07", "kind": "odometer", "device": "van-07", "day": "2026-11-27", "at": "2026-11-27T18:00:00+08:00", "qty": 100])
        }
        try v.expectRefused("recorded by van-08", "only that device") { try v.book.void("van-08/scan/X", reason: "not mine") }
        try v.expectRefused("belongs to route R09, not R07") { try v.book.void("van-09/scan/Y", reason: "not mine") }
        try v.expectRefused("belongs to 2026-11-27", "accountant") { try v.book.void("van-07/odometer/old", reason: "typo") }
    }
}
