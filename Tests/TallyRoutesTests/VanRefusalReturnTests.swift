import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// `VanBook.refuse` and `VanBook.returnGoods`, and the reason codes both use.
@Suite struct VanRefusalReturnTests {
    typealias F = VanFixture

    // MARK: - Reason codes

    @Test func reasonCodesAreUniqueLowercaseAndUsable() {
        let codes = ReasonCode.all.map(\.code)
        #expect(Set(codes).count == codes.count, "duplicate codes: \(codes)")
        for r in ReasonCode.all {
            #expect(r.code == r.code.lowercased(), "\(r.code) is not lowercase")
            #expect(!r.code.isEmpty && !r.code.contains(" "), "\(r.code) is not a short code")
            #expect(r.refusal || r.return, "\(r.code) explains nothing")
            #expect(!r.chinese.isEmpty && !r.english.isEmpty)
            #expect(ReasonCode.named(r.code.uppercased()) == r)
        }
        #expect(ReasonCode.named("other")?.needsNote == true)
        #expect(ReasonCode.named("nope") == nil)
    }

    // MARK: - Refusal

    @Test func aRefusalNeedsARefusalReasonCode() throws {
        let v = try VanFixture()
        let refusalCodes = ReasonCode.all.filter(\.refusal).map(\.code).joined(separator: ", ")
        try v.expectRefused("'bogus' is not a reason code for a refusal", refusalCodes, "tally reasons") {
            try v.book.refuse(F.t1, reason: "bogus")
        }
        // A return-only code does not explain a refusal.
        try v.expectRefused("'quality' is not a reason code for a refusal", refusalCodes) { try v.book.refuse(F.t1, reason: "quality") }
        try v.expectRefused("'over_ordered' is not a reason code for a refusal") { try v.book.refuse(F.t1, reason: "over_ordered") }
        #expect(!refusalCodes.contains("quality"))
    }

    @Test func reasonOtherNeedsANote() throws {
        let v = try VanFixture()
        try v.expectRefused("reason 'other' needs a note", "--note TEXT") { try v.book.refuse(F.t1, reason: "other") }
        try v.expectRefused("reason 'other' needs a note") { try v.book.refuse(F.t1, reason: "other", note: "  ") }
        let id = try v.book.refuse(F.t1, reason: "other", note: " 老板不在 ")
        let e = try v.event(id)
        #expect(e["reason"] == "other" && e["note"] == "老板不在")
    }

    @Test func aRefusalIsRecordedAndTheTicketBecomesRefused() throws {
        let v = try VanFixture()
        let id = try v.book.refuse(F.t1, reason: "CLOSED")
        #expect(id == "van-07/refuse/T0001")
        let e = try v.event(id)
        #expect(e["kind"] == "refuse" && e["ticket"] == "T0001" && e["reason"] == "closed" && e["note"] == .null && e["amount"] == .integer(0))
        #expect(try v.status(F.t1) == "refused")
        #expect(try v.view(F.t1)?.status == "refused")
        try v.expectRefused("T0001 is already refused (\(id))") { try v.book.refuse(F.t1, reason: "late") }
        try v.expectRefused("no ticket T9999") { try v.book.refuse("T9999", reason: "closed") }
    }

    @Test func aDeliveredTicketIsNotRefusedButReturned() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        try v.expectRefused("T0001 was delivered (\(d.event))", "a return", "tally van return T0001") {
            try v.book.refuse(F.t1, reason: "damaged")
        }
        #expect(try v.status(F.t1) == "delivered")
    }

    @Test func aRefusedTicketIsNotDelivered() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        let id = try v.book.refuse(F.t1, reason: "no_money")
        try v.expectRefused("T0001 was refused (\(id), no_money)", "take the refusal back first", "tally van void \(id)") {
            _ = try v.book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, cash: .yuan(1130)))
        }
        try v.expectRefused("was refused", "no receipt") { try v.book.receipt(F.t1, verify: true) }
    }

    @Test func theTicketStatusSetByAnotherDeviceIsRespected() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.replica.write { try $0.update("tickets", key: "T0001", ["status": "refused"]) }
        try v.expectRefused("T0001 is marked refused by another device", "call the depot") {
            try v.book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, cash: .yuan(1130)))
        }
        try v.replica.write { try $0.update("tickets", key: "T0002", ["status": "delivered"]) }
        try v.expectRefused("T0002 is marked delivered") { try v.book.refuse(F.t2, reason: "closed") }
    }

    // MARK: - Returns

    @Test func nothingIsReturnedBeforeDelivery() throws {
        let v = try VanFixture()
        try v.expectRefused("T0001 has not been delivered, so nothing can be returned") {
            try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged")
        }
        try v.book.refuse(F.t1, reason: "closed")
        try v.expectRefused("has not been delivered") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged") }
    }

    @Test func aReturnNeedsAReturnReasonAPositiveQuantityAndAProductOfTheTicket() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.expectRefused("'closed' is not a reason code for a return", "quality") {
            try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "closed")
        }
        try v.expectRefused("reason 'quality' needs a note") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "quality") }
        try v.expectRefused("at least 1 carton") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 0, reason: "damaged") }
        try v.expectRefused("product 6900000000000 is not on ticket T0001", "tally van receipt T0001") {
            try v.book.returnGoods(F.t1, product: "6900000000000", qty: 1, reason: "damaged")
        }
        try v.expectRefused("no ticket T9999") { try v.book.returnGoods("T9999", product: F.zhonghua, qty: 1, reason: "damaged") }
    }

    @Test func neverMoreIsReturnedThanWasDeliveredLessEarlierReturns() throws {
        let v = try VanFixture()
        try v.deliverT1()
        try v.expectRefused("3 cartons of 中华(硬) (\(F.zhonghua)) cannot be returned: 2 were delivered and 0 already returned, so at most 2") {
            try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 3, reason: "damaged")
        }
        try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged")
        try v.expectRefused("2 were delivered and 1 already returned, so at most 1") {
            try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 2, reason: "damaged")
        }
        let second = try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "over_ordered")
        #expect(second.id == "van-07/return/T0001#2")
        try v.expectRefused("at most 0") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged") }
        // The other product has its own count.
        try v.book.returnGoods(F.t1, product: F.yuxi, qty: 1, reason: "wrong_goods")
    }

    @Test func cartonsDeclaredShortWereNotDeliveredSoCannotComeBack() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1, F.b1])
        _ = try v.book.deliver(DeliveryRequest(ticket: F.t1, signature: F.signature, cash: .yuan(680), short: [F.zhonghua: 1]))
        try v.expectRefused("1 were delivered", "at most 1") { try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 2, reason: "damaged") }
    }

    @Test func onACashTicketTheValueIsPaidBack() throws {
        let v = try VanFixture()
        try v.deliverT1()
        let r = try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 2, reason: "quality", note: "受潮")
        #expect(r.kind == "return" && r.ticket == F.t1 && r.product == F.zhonghua && r.qty == 2)
        #expect(r.due == .yuan(900), "credit = 2 × 450.00")
        #expect(r.amount == .yuan(900), "paid back in cash on a cash ticket")
        #expect(r.reason == "quality" && r.note == "受潮" && r.day == F.day && r.device == "van-07")
        #expect(try v.cash() == CashPosition(collected: .yuan(1130), paidBack: .yuan(900), deposited: .zero))
        #expect(try v.cash().onHand == .yuan(230))
        #expect(try v.book.receipt(F.t1, verify: false).returns.map(\.id) == [r.id])
    }

    @Test func onAnElectronicTicketTheValueIsCreditedNotPaidBack() throws {
        let v = try VanFixture()
        try v.deliverT2()
        let r = try v.book.returnGoods(F.t2, product: F.zhonghua, qty: 1, reason: "damaged")
        #expect(r.amount == .zero && r.due == .yuan(450))
        #expect(try v.cash().paidBack == .zero)
        let s = try v.book.daySummary()
        #expect(s.credited == .yuan(450) && s.cashPaidBack == .zero && s.returns == 1 && s.cartonsReturned == 1)
    }
}

extension CashPosition {
    init(collected: Money, paidBack: Money, deposited: Money) {
        self.init(DayLedger([]), device: "")
        self.collected = collected
        self.paidBack = paidBack
        self.deposited = deposited
    }
}
