import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// `VanBook.deliver`: every carton scanned or declared short, goods and money both settled, signed.
@Suite struct VanDeliveryTests {
    typealias F = VanFixture

    func request(_ ticket: String = F.t1, signature: [UInt8]? = nil, cash: Money? = .yuan(1130),
                 short: [String: Int] = [:], partialReason: String? = nil) -> DeliveryRequest {
        DeliveryRequest(ticket: ticket, signature: signature ?? F.signature(for: ticket), signer: "张三", cash: cash, short: short,
                        partialReason: partialReason)
    }

    // MARK: - Goods

    @Test func unscannedCartonsNotDeclaredShortAreRefusedNamingTheProduct() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1])
        try v.expectRefused("T0001 was not delivered", "1 carton of 中华(硬) (\(F.zhonghua)) not scanned", "--short \(F.zhonghua)=1",
                            "1 carton of 玉溪,软 (\(F.yuxi))", "--short \(F.yuxi)=1") {
            _ = try v.book.deliver(request())
        }
        try v.expectRefused("T0002 was not delivered", "1 carton of 中华(硬)", "tally van scan T0002 CODE", "--short \(F.zhonghua)=1") {
            _ = try v.book.deliver(request(F.t2, cash: nil))
        }
        #expect(try !v.replica.hasBlob(BlobHash.sha256Hex(F.signature)))
        #expect(try v.status(F.t1) == "planned")
    }

    @Test func aShortageOfAProductNotOnTheTicketIsRefused() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.expectRefused("product 6900000000000 is not on ticket T0001") {
            _ = try v.book.deliver(request(short: ["6900000000000": 1]))
        }
    }

    @Test func moreShortThanUnscannedIsRefused() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1, F.b1])
        try v.expectRefused("2 short of 中华(硬) (\(F.zhonghua)) declared, but only 1 of its 2 cartons are unscanned") {
            _ = try v.book.deliver(request(short: [F.zhonghua: 2]))
        }
        try v.expectRefused("1 short of 玉溪,软", "only 0 of its 1") {
            _ = try v.book.deliver(request(short: [F.zhonghua: 1, F.yuxi: 1]))
        }
        try v.expectRefused("at least 1 carton") { try v.book.deliver(request(short: [F.zhonghua: 0])) }
        try v.expectRefused("at least 1 carton") { try v.book.deliver(request(short: [F.zhonghua: -1])) }
    }

    @Test func everythingShortIsRefusedSuggestingARefusal() throws {
        let v = try VanFixture()
        try v.expectRefused("nothing would be handed over on ticket T0001", "every carton is declared short", "tally van refuse T0001") {
            _ = try v.book.deliver(request(short: [F.zhonghua: 2, F.yuxi: 1]))
        }
        try v.expectRefused("every carton is declared short", "tally van refuse T0002") {
            _ = try v.book.deliver(request(F.t2, cash: nil, short: [F.zhonghua: 1]))
        }
    }

    // MARK: - Money

    @Test func aCashTicketWithoutCashIsRefused() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.expectRefused("T0001 is paid in cash", "--cash 1130.00") { try v.book.deliver(request(cash: nil)) }
        try v.expectRefused("cannot be negative") { try v.book.deliver(request(cash: .yuan(-1))) }
    }

    @Test func moreCashThanDueIsRefused() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.expectRefused("1130.01 is more than the 1130.00 due on ticket T0001") { try v.book.deliver(request(cash: .yuan(1130, 1))) }
    }

    @Test func theCashDueIsTheValueLessShortages() throws {
        let v = try VanFixture()
        _ = try v.book.scan(F.t1, codes: [F.a1, F.b1])
        // 450.00 + 230.00 is due once one 中华 is short: 1130.00 is too much.
        try v.expectRefused("1130.00 is more than the 680.00 due") { try v.book.deliver(request(short: [F.zhonghua: 1])) }
        let d = try v.book.deliver(request(cash: .yuan(680), short: [F.zhonghua: 1]))
        #expect(d.handover.value == .yuan(680))
        #expect(d.handover.lines.map(\.delivered) == [1, 1] && d.handover.lines.map(\.short) == [1, 0])
        let e = try v.event(d.event)
        #expect(e["due"] == .integer(68_000) && e["amount"] == .integer(68_000) && e["qty"] == .integer(2))
    }

    @Test func lessCashNeedsAPartialReasonWhichIsRecorded() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.expectRefused("1000.00 is less than the 1130.00 due on ticket T0001", "--partial --reason") {
            _ = try v.book.deliver(request(cash: .yuan(1000)))
        }
        try v.expectRefused("--partial --reason") { try v.book.deliver(request(cash: .yuan(1000), partialReason: "   ")) }
        let d = try v.book.deliver(request(cash: .yuan(1000), partialReason: " 客户只有1000元 "))
        #expect(d.handover.partialReason == "客户只有1000元" && d.handover.cash == .yuan(1000) && d.handover.value == .yuan(1130))
        let e = try v.event(d.event)
        #expect(e["reason"] == "客户只有1000元" && e["amount"] == .integer(100_000) && e["due"] == .integer(113_000))
        #expect(try v.book.daySummary().partialPayments == [
            DaySummary.PartialPayment(ticket: F.t1, due: .yuan(1130), collected: .yuan(1000), reason: "客户只有1000元")])
    }

    @Test func anElectronicTicketTakesNoCash() throws {
        let v = try VanFixture()
        try v.scanAll(F.t2)
        try v.expectRefused("T0002 is paid electronically", "remove --cash 450.00") { try v.book.deliver(request(F.t2, cash: .yuan(450))) }
        let d = try v.book.deliver(request(F.t2, cash: .zero))
        #expect(d.handover.cash == .zero && d.handover.value == .yuan(450) && d.handover.payment == "electronic")
        #expect(try v.event(d.event)["amount"] == .integer(0))
    }

    // MARK: - Signature

    @Test func anEmptyOrHugeSignatureIsRefused() throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        try v.expectRefused("signature image is empty") { try v.book.deliver(request(signature: [])) }
        let huge = [UInt8](repeating: 7, count: VanBook.maxSignatureBytes + 1)
        try v.expectRefused("over the 2 MB") { try v.book.deliver(request(signature: huge)) }
        #expect(try !v.replica.hasBlob(BlobHash.sha256Hex(huge)))
    }

    // MARK: - The recorded handover

    @Test func aDeliveryBindsContentMoneyAndSignature() throws {
        let v = try VanFixture()
        #expect(try v.status(F.t1) == "planned")
        let d = try v.deliverT1()
        #expect(d.event == "van-07/deliver/T0001")
        #expect(try v.status(F.t1) == "delivered")
        let view = try v.view(F.t1)
        #expect(view?.status == "delivered" && view?.cashCollected == .yuan(1130))

        let e = try v.event(d.event)
        let detail = try #require(e["detail"].text)
        let signatureHash = BlobHash.sha256Hex(F.signature)
        #expect(e["kind"] == "deliver" && e["ticket"] == "T0001" && e["day"] == .text(F.day) && e["at"] == .text(VanBook.timestamp(F.milliseconds(F.morning))))
        #expect(e["amount"] == .integer(113_000), "amount = cash collected")
        #expect(e["due"] == .integer(113_000), "due = value handed over")
        #expect(e["qty"] == .integer(3))
        #expect(e["note"] == "张三")
        #expect(e["reason"] == .null)
        #expect(e["hash"] == .text(BlobHash.sha256Hex(Array(detail.utf8))), "hash = SHA-256 of the detail")
        #expect(e["hash"] == .text(d.hash))
        #expect(e["ref"] == .text(signatureHash), "ref = the signature's SHA-256")
        #expect(detail == d.handover.canonicalJSON())
        #expect(try JSONDecoder().decode(Handover.self, from: Data(detail.utf8)) == d.handover)
        #expect(try v.replica.hasBlob(signatureHash))
        #expect(try v.replica.blob(signatureHash) == F.signature)

        let h = d.handover
        #expect(h.ticket == F.t1 && h.day == F.day && h.route == "R07" && h.customer == "C10023" && h.customerName == "张记便利店")
        #expect(h.payment == "cash" && h.value == .yuan(1130) && h.cash == .yuan(1130) && h.partialReason == nil)
        #expect(h.signer == "张三" && h.signature == signatureHash && h.device == "van-07" && h.at == VanBook.timestamp(F.milliseconds(F.morning)))
        #expect(h.lines == [
            Handover.Line(product: F.zhonghua, name: "中华(硬)", ordered: 2, delivered: 2, short: 0, unitPrice: .yuan(450)),
            Handover.Line(product: F.yuxi, name: "玉溪,软", ordered: 1, delivered: 1, short: 0, unitPrice: .yuan(230)),
        ])
        #expect(h.promisedBy == "2026-11-28T12:00:00+08:00" && h.late == false)
    }

    @Test func aSecondDeliveryIsRefused() throws {
        let v = try VanFixture()
        let d = try v.deliverT1()
        try v.expectRefused("T0001 is already delivered (\(d.event) by van-07", "tally van receipt T0001") {
            _ = try v.book.deliver(request(signature: SignaturePNG.make(seed: 77)))
        }
        #expect(try v.events(.deliver).count == 1)
    }

    @Test(arguments: [("2026-11-28T11:59:59+08:00", false), ("2026-11-28T12:00:00+08:00", false), ("2026-11-28T12:00:01+08:00", true),
                      ("2026-11-28T05:00:01Z", true)])
    func aDeliveryAfterThePromisedTimeIsLate(time: String, late: Bool) throws {
        let v = try VanFixture()
        try v.scanAll(F.t1)
        v.set(time)
        let d = try v.book.deliver(request())
        #expect(d.handover.late == late)
        #expect(d.handover.at == VanBook.timestamp(F.milliseconds(time)))
        #expect(try v.book.daySummary().late == (late ? [F.t1] : []))
    }

    @Test func theClockOnlyMovesWhenTold() throws {
        let v = try VanFixture()
        try v.scanAll(F.t2)
        v.clock.advance(by: 5 * 3600 * 1000)  // 14:00:00, exactly the promised time: on time
        #expect(try v.book.deliver(request(F.t2, cash: nil)).handover.late == false)
        #expect(try v.event("van-07/deliver/T0002")["at"] == "2026-11-28T14:00:00.000+08:00")
    }
}
