import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

private typealias F = VanFixture

/// What comes back at day end: loaded − delivered + returned, differences recorded.
@Suite struct VanLoadInTests {
    @Test func aLoadInNeedsALoadOutFirst() throws {
        let v = try F()
        try v.expectRefused("no load-out count", "tally van load-out") { try v.book.loadIn(counts: [:]) }
    }

    @Test func expectedIsLoadedLessDeliveredPlusReturned() throws {
        let v = try F()
        _ = try v.book.loadOut(counts: [:])  // 中华 2 + 1 = 3, 玉溪 1
        try v.deliverT1()                       // 中华 2, 玉溪 1 handed over
        try v.book.returnGoods(F.t1, product: F.zhonghua, qty: 1, reason: "damaged")  // 1 中华 back on the van
        // Expected back: 中华 3 − 2 + 1 = 2 (T0002's carton and the return), 玉溪 1 − 1 = 0.
        try v.expectRefused("product 999 was not loaded") { try v.book.loadIn(counts: ["999": 1]) }
        let r = try v.book.loadIn(counts: [F.zhonghua: 1])
        #expect(r.counts.map { "\($0.product):\($0.expected)/\($0.counted)" } == ["\(F.zhonghua):2/1", "\(F.yuxi):0/0"])
        #expect(r.differences.map(\.difference) == [-1])
        #expect(try v.book.daySummary().unexplained.contains { $0.contains("1 came back, 2 expected") })
        try v.expectRefused("already recorded") { try v.book.loadIn(counts: [:]) }
        // Voided, it can be counted again.
        try v.book.void(r.event, reason: "recount")
        #expect(try v.book.loadIn(counts: [:]).differences.isEmpty)
        #expect(try !v.book.daySummary().unexplained.contains { $0.contains("came back") })
    }
}
