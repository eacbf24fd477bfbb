import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

@Suite struct VanScanTests {
    typealias F = VanFixture

    @Test func ticketsInStopOrderWithCartonCounts() throws {
        let v = try VanFixture()
        let t = try v.book.tickets()
        #expect(t.map(\.ticket) == ["T0001", "T0002"])
        #expect(t[0].amountDue == Money(minorUnits: 113_000))
        #expect(t[0].cartonsExpected == 3 && t[0].cartonsScanned == 0)
        #expect(t[0].status == "planned" && t[0].payment == "cash" && t[0].customerName == "张记便利店")
        #expect(try v.book.workingDay() == WorkingDay(date: F.day, closed: false))
    }

    @Test func anAcceptedScanIsRecordedAgainstItsTicketAndProduct() throws {
        let v = try VanFixture()
        let out = try v.book.scan(F.t1, codes: [F.a1])
        #expect(out == [ScanOutcome(code: F.a1, result: .accepted, detail: "ok")])
        let e = try v.event("van-07/scan/\(F.a1)")
        #expect(e["kind"] == "scan" && e["ticket"] == "T0001" && e["ref"] == .text(F.a1) && e["product"] == .text(F.zhonghua))
        #expect(e["device"] == "van-07" && e["route"] == "R07" && e["day"] == .text(F.day))
        #expect(e["at"] == .text(VanBook.timestamp(F.milliseconds(F.morning))), "the time comes from the injected clock")
        #expect(try v.view(F.t1)?.cartonsScanned == 1)
        let (_, lines) = try v.book.show(F.t1)
        #expect(lines.map(\.scanned) == [1, 0])
    }

    @Test func aCartonOfAnotherShopIsCaughtNamingItsTicketAndCustomer() throws {
        let v = try VanFixture()
        let message = try v.expectRefused("carton \(F.c1)", "T0002", "李家超市", "C10024", "not to T0001") {
            _ = try v.book.scan(F.t1, codes: [F.a1, F.c1])
        }
        #expect(!message.contains(F.a1), "only the refused carton is named")
        do {
            _ = try v.book.scan(F.t1, codes: [F.a1, F.c1])
        } catch let VanError.scanRefused(outcomes) {
            #expect(outcomes.map(\.result) == [.wrongTicket])
            #expect(outcomes.map(\.code) == [F.c1])
        }
        #expect(try v.events(.scan).isEmpty, "all or nothing: the good carton is not recorded either")
    }

    @Test func anUnknownCartonOrTicketIsRefused() throws {
        let v = try VanFixture()
        try v.expectRefused("carton NOPE", "on no ticket") { try v.book.scan(F.t1, codes: [F.a1, "NOPE"]) }
        do {
            _ = try v.book.scan(F.t1, codes: ["NOPE"])
            Issue.record("an unknown carton was accepted")
        } catch let VanError.scanRefused(outcomes) {
            #expect(outcomes.map(\.result) == [.unknown])
        }
        try v.expectRefused("no ticket T9999", "R07") { try v.book.scan("T9999", codes: [F.a1]) }
    }

    @Test func aRepeatedScanIsReportedAndNotCountedTwice() throws {
        let v = try VanFixture()
        let first = try v.book.scan(F.t1, codes: [F.a1, F.a1])
        #expect(first.map(\.result) == [.accepted, .alreadyScanned])
        let before = try v.state()
        let again = try v.book.scan(F.t1, codes: [F.a1])
        #expect(again.map(\.result) == [.alreadyScanned])
        #expect(try v.state() == before)
        #expect(try v.view(F.t1)?.cartonsScanned == 1)
        #expect(try v.events(.scan).count == 1)
        let mixed = try v.book.scan(F.t1, codes: [F.a1, " \(F.a2) "])
        #expect(mixed.map(\.result) == [.alreadyScanned, .accepted], "codes are trimmed")
        #expect(try v.view(F.t1)?.cartonsScanned == 2)
    }

    @Test func scanningADeliveredOrRefusedTicketIsRefused() throws {
        let v = try VanFixture()
        let d = try v.deliverT2()
        try v.expectRefused("T0002 is already delivered", d.event) { try v.book.scan(F.t2, codes: [F.c1]) }
        let r = try v.book.refuse(F.t1, reason: "closed")
        try v.expectRefused("T0001 is already refused", r) { try v.book.scan(F.t1, codes: [F.a1]) }
    }

    @Test func aTicketOfAnotherDayIsNotScannedToday() throws {
        let t3 = ManifestTests.t2.replacingOccurrences(of: "T0002", with: "T0003")
            .replacingOccurrences(of: "2026-11-28", with: "2026-11-29")
            .replacingOccurrences(of: "-0001", with: "-0002")
        let v = try VanFixture(manifest: VanFixture.standardLines + [t3])
        #expect(try v.book.workingDay()?.date == F.day, "the earliest open day is worked first")
        #expect(try v.book.tickets().map(\.ticket) == ["T0001", "T0002"])
        try v.expectRefused("T0003 is for 2026-11-29", "not today (2026-11-28)") {
            _ = try v.book.scan("T0003", codes: ["C10024-6901028075015-0002"])
        }
        try v.expectRefused("T0003 is for 2026-11-29") {
            _ = try v.book.deliver(DeliveryRequest(ticket: "T0003", signature: F.signature(for: "T0003")))
        }
        try v.expectRefused("T0003 is for 2026-11-29") { try v.book.refuse("T0003", reason: "closed") }
    }

    @Test func aVanWithoutTicketsForItsRouteRecordsNothing() throws {
        let v = try VanFixture(route: "R09")
        #expect(try v.book.workingDay() == nil)
        #expect(try v.book.tickets().isEmpty && v.book.events().isEmpty)
        try v.expectRefused("there are no tickets for route R09", "sync with the depot") { try v.book.scan(F.t1, codes: [F.a1]) }
        try v.expectRefused("there are no tickets for route R09") { try v.book.vehicleCheck(fault: nil) }
        try v.expectRefused("there are no tickets for route R09") { try v.book.daySummary() }
    }

    @Test func onlyAJoinedVanReplicaOpensAsAVanBook() throws {
        let v = try VanFixture()
        try v.replica.setSettings(["sync.role": "window"])
        #expect(throws: VanError.self) { try VanBook.joined(v.replica) }
        try v.replica.setSettings(["sync.role": nil, "sync.device": nil])
        do {
            _ = try VanBook.joined(v.replica)
            Issue.record("a replica that never joined opened as a van")
        } catch {
            #expect("\(error)".contains("is not a van's replica") && "\(error)".contains("tally join"))
        }
        try v.replica.setSettings(["sync.role": "van", "sync.device": "van-07"])
        #expect(try VanBook.joined(v.replica).device == "van-07")
    }
}
