import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// The pure rules of a working day: which day a van works, how cash leaves it, what a
/// signature picture must be. No database, no clock.
struct WorkingDayRuleTests {
    // MARK: - Which day

    @Test func aVanWorksTheEarliestDayItHasNotClosed() {
        let d = BusinessDay.choose(dates: ["2026-11-29", "2026-11-30"], closedHere: [], closedElsewhere: [], worked: ["2026-11-29"],
                                   today: "2026-11-30")
        #expect(d == WorkingDay(date: "2026-11-29", closed: false), "a day it worked stays its day until closed, past midnight too")
        let next = BusinessDay.choose(dates: ["2026-11-29", "2026-11-30"], closedHere: ["2026-11-29"], closedElsewhere: [],
                                      worked: ["2026-11-29"], today: "2026-11-29")
        #expect(next == WorkingDay(date: "2026-11-30", closed: false), "after closing day N it works N+1, even the same evening")
        let done = BusinessDay.choose(dates: ["2026-11-29"], closedHere: ["2026-11-29"], closedElsewhere: [], worked: [], today: "2026-11-29")
        #expect(done == WorkingDay(date: "2026-11-29", closed: true))
        #expect(BusinessDay.choose(dates: [], closedHere: [], closedElsewhere: [], worked: [], today: "2026-11-29") == nil)
    }

    @Test func aReliefVanSkipsADayThatIsNotItsOwn() {
        let dates: Set<String> = ["2026-11-29", "2026-11-30"]
        // Joined on 11-30: yesterday is over and it did nothing on it.
        #expect(BusinessDay.choose(dates: dates, closedHere: [], closedElsewhere: [], worked: [], today: "2026-11-30")?.date == "2026-11-30")
        // Its clock still says 11-29, but the route's van closed 11-29.
        #expect(BusinessDay.choose(dates: dates, closedHere: [], closedElsewhere: ["2026-11-29"], worked: [], today: "2026-11-29")?.date
                    == "2026-11-30")
        // Nothing later to work: a past day is still workable (a manifest tried out days later).
        #expect(BusinessDay.choose(dates: ["2026-11-29"], closedHere: [], closedElsewhere: [], worked: [], today: "2026-12-03")?.date
                    == "2026-11-29")
        // Today, not closed by anyone: the relief van works it with the others.
        #expect(BusinessDay.choose(dates: dates, closedHere: [], closedElsewhere: [], worked: [], today: "2026-11-29")?.date == "2026-11-29")
    }

    // MARK: - Cash at the close

    @Test func cashOnHandMustBePlacedAtTheClose() {
        let m = { (s: String) in (try? Money(parsing: s)) ?? .zero }
        #expect(CashClose.decide(onHand: m("300.00"), carry: nil, missing: nil, reason: nil) == .failure(.cashOnHand(m("300.00"))))
        #expect(CashClose.decide(onHand: .zero, carry: nil, missing: nil, reason: nil) == .success(.init(carry: .zero, missing: .zero, reason: nil)))
        #expect(CashClose.decide(onHand: m("-5.00"), carry: nil, missing: nil, reason: nil)
                    == .success(.init(carry: .zero, missing: .zero, reason: nil)), "over-deposited: the accountant's, not the driver's")
        #expect(CashClose.decide(onHand: m("300.00"), carry: m("200.00"), missing: nil, reason: "x")
                    == .failure(.doesNotAddUp(onHand: m("300.00"), carry: m("200.00"), missing: .zero)))
        #expect(CashClose.decide(onHand: m("300.00"), carry: m("200.00"), missing: m("100.00"), reason: "  ") == .failure(.noReason))
        #expect(CashClose.decide(onHand: m("300.00"), carry: m("0.00"), missing: m("300.00"), reason: "x") == .failure(.notPositive(.zero)))
        #expect(CashClose.decide(onHand: .zero, carry: m("1.00"), missing: nil, reason: "x") == .failure(.nothingOnHand(.zero)))
        #expect(CashClose.decide(onHand: m("300.00"), carry: m("200.00"), missing: m("100.00"), reason: " 找零 ")
                    == .success(.init(carry: m("200.00"), missing: m("100.00"), reason: "找零")))
    }

    @Test func aDepositAfterTheClosePaysTheMissingFirstThenTheCarried() {
        let m = { (n: Int64) in Money(minorUnits: n * 100) }
        #expect(CashClose.outstanding(carried: m(200), missing: m(100), depositedAfterClose: .zero) == (m(200), m(100)))
        #expect(CashClose.outstanding(carried: m(200), missing: m(100), depositedAfterClose: m(60)) == (m(200), m(40)))
        #expect(CashClose.outstanding(carried: m(200), missing: m(100), depositedAfterClose: m(150)) == (m(150), .zero))
        #expect(CashClose.outstanding(carried: m(200), missing: m(100), depositedAfterClose: m(400)) == (.zero, .zero))
        // Whatever the split, what is outside the bank plus what was paid in is what the close placed.
        var rng = SeededGenerator(seed: testSeed)
        for _ in 0..<500 {
            let c = Int64(rng.next() % 1_000), x = Int64(rng.next() % 1_000), after = Int64(rng.next() % 1_000)
            guard after <= c + x else { continue }
            let o = CashClose.outstanding(carried: m(c), missing: m(x), depositedAfterClose: m(after))
            #expect(o.carried + o.missing + m(after) == m(c + x), "seed \(testSeed)")
            #expect(o.carried >= .zero && o.missing >= .zero)
        }
    }

    var testSeed: UInt64 { UInt64(ProcessInfo.processInfo.environment["TALLY_SEED"] ?? "") ?? 19 }

    // MARK: - A signature picture

    @Test func aSignatureMustBeAPictureThatDecodes() throws {
        let png = SignaturePNG.make(seed: 42)
        #expect(try SignatureImage.check(png).get() == .init(format: .png, width: 160, height: 60))
        #expect(SignaturePNG.make(seed: 42) == png && SignaturePNG.make(seed: 43) != png, "seeded, and one picture per seed")
        #expect(SignatureImage.check(Array("hello".utf8)) == .failure(.notAnImage))
        #expect(SignatureImage.check([]) == .failure(.notAnImage))
        var cut = png
        cut.removeLast(30)
        guard case .failure(.damaged(.png, _)) = SignatureImage.check(cut) else { Issue.record("a cut PNG passed"); return }
        var flipped = png
        flipped[60] ^= 0xFF  // inside the pixel data: its chunk's checksum fails
        guard case .failure(.damaged(.png, _)) = SignatureImage.check(flipped) else { Issue.record("a damaged PNG passed"); return }
        let header = Array(png.prefix(8)) + Array(repeating: 7, count: 3_000)  // what the old tests called a picture
        guard case .failure = SignatureImage.check(header) else { Issue.record("a PNG header and noise passed"); return }
        #expect(SignatureImage.check(SignaturePNG.make(seed: 1, width: 8, height: 60)) == .failure(.size(width: 8, height: 60)))
        #expect(SignatureImage.check(SignaturePNG.make(seed: 1, width: 5_000, height: 20)) == .failure(.size(width: 5_000, height: 20)))
    }

    @Test func aJPEGIsCheckedSegmentBySegment() throws {
        // SOI, a quantisation table, a baseline frame of 200×80, a scan header, two bytes of data, EOI.
        let dqt: [UInt8] = [0xFF, 0xDB, 0x00, 0x43, 0x00] + Array(repeating: 1, count: 64)
        let sof: [UInt8] = [0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x50, 0x00, 0xC8, 0x01, 0x01, 0x11, 0x00]
        let sos: [UInt8] = [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]
        let jpeg: [UInt8] = [0xFF, 0xD8] + dqt + sof + sos + [0x12, 0x34, 0x56] + [0xFF, 0xD9]
        #expect(try SignatureImage.check(jpeg).get() == .init(format: .jpeg, width: 200, height: 80))
        guard case .failure(.damaged(.jpeg, _)) = SignatureImage.check(Array(jpeg.dropLast(2))) else { Issue.record("no end mark passed"); return }
        guard case .failure(.damaged(.jpeg, _)) = SignatureImage.check([0xFF, 0xD8] + sos + [1, 2, 0xFF, 0xD9]) else {
            Issue.record("a scan without a frame passed"); return
        }
    }

    // MARK: - What shops owe

    /// Random deliveries that leave money owed, payments and voids, in random orders and with
    /// duplicates: the balances are the same, and what is owed is what was opened less what
    /// was paid by entries still standing.
    @Test func balancesDoNotDependOnTheOrderEntriesArrive() throws {
        var rng = SeededGenerator(seed: testSeed)
        for round in 0..<200 {
            var events: [VanEvent] = []
            var expected: [String: Int64] = [:]
            for t in 0..<(1 + Int(rng.next() % 5)) {
                let ticket = "T\(t)", owed = Int64(1 + rng.next() % 500), onAccount = Int64(rng.next() % 3 == 0 ? 0 : rng.next() % 300)
                var h = Handover(ticket: ticket, day: "2026-11-29", route: "R01", customer: "C\(t)", customerName: "店\(t)",
                                 payment: "cash", lines: [],
                                 value: Money(minorUnits: 10_000), cash: Money(minorUnits: 10_000 - owed - onAccount), partialReason: "x",
                                 signer: nil, signature: "", device: "van-01", at: "", promisedBy: nil, late: false)
                h.owed = Money(minorUnits: owed)
                if onAccount > 0 { h.onAccount = Money(minorUnits: onAccount) }
                events.append(VanEvent(id: "d\(t)", kind: "deliver", route: "R01", day: "2026-11-29", ticket: ticket, device: "van-01", at: "",
                                       amount: h.cash, due: h.value, product: nil, qty: nil, reason: "x", note: nil, ref: nil,
                                       detail: h.canonicalJSON(), hash: nil))
                var left = owed + onAccount
                for p in 0..<Int(rng.next() % 3) where left > 0 {
                    let paid = Int64(1 + rng.next() % UInt64(left))
                    let id = "c\(t).\(p)"
                    events.append(VanEvent(id: id, kind: "collect", route: "R01", day: "2026-11-30", ticket: ticket, device: "van-01", at: "",
                                           amount: Money(minorUnits: paid), due: Money(minorUnits: paid), product: nil, qty: nil, reason: nil,
                                           note: nil, ref: nil, detail: nil, hash: nil))
                    if rng.next() % 4 == 0 {
                        events.append(VanEvent(id: "v\(id)", kind: "void", route: "R01", day: "2026-11-30", ticket: ticket, device: "van-01",
                                               at: "", amount: .zero, due: .zero, product: nil, qty: nil, reason: nil, note: "x", ref: id,
                                               detail: nil, hash: nil))
                    } else {
                        left -= paid
                    }
                }
                expected[ticket] = left
            }
            let reference = Receivables.balances(DayLedger(events: events))
            #expect(Dictionary(uniqueKeysWithValues: reference.map { ($0.ticket, $0.balance.minorUnits) }) == expected,
                    "seed \(testSeed) round \(round)")
            for _ in 0..<3 {
                var shuffled = events.shuffled(using: &rng)
                if let again = shuffled.randomElement(using: &rng) { shuffled.append(again) }
                #expect(Receivables.balances(DayLedger(events: shuffled)) == reference, "seed \(testSeed) round \(round)")
            }
        }
    }
}
