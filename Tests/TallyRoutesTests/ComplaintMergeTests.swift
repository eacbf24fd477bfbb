import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Complaint steps taken offline on several devices: merged by the replica engine as a grow-only
/// set, they give the same state and the same conflicts everywhere, whatever the order of
/// arrival; real disagreements stay flagged until a person settles them.
@Suite struct ComplaintMergeTests {
    typealias H = ServiceHall

    @Test func differentJudgementsAreAConflictUntilSomebodySettlesIt() throws {
        let h = try ServiceHall()
        let id = try h.openEverywhere()
        h.set("2026-11-27T10:02:00+08:00")
        try h.book("W1", staff: "张三").judge(id, "valid")
        h.set("2026-11-27T10:05:00+08:00")
        try h.book("W2", staff: "李四").judge(id, "invalid", answer: "不属实 not what happened")
        try h.exchange("W1", "W2")

        let v = try #require(try h.view(id, on: "W1"))
        #expect(try h.view(id, on: "W2") == v)
        #expect(v.conflicts.count == 1)
        #expect(v.conflicts.first?.message
            == "judged valid on W1 (张三, 10:02) and invalid on W2 (李四, 10:05); settle it by hand: `tally complaint judge \(id) valid|invalid --settles`")
        #expect(v.conflicts.first?.values == ["valid", "invalid"])
        #expect(v.judgement == nil && v.answer == nil && v.stage == .judged, "nobody's decision wins silently")
        #expect(v.dueNext?.step == .investigate, "deadlines keep running while it is in conflict")

        // Held back until settled, on both windows.
        try h.expectRefused("\(id) is in conflict: judged valid on W1") { try h.book("W2").assign(id, to: "grants") }
        try h.expectRefused("is in conflict", "--settles") { try h.book("W1").judge(id, "valid") }
        try h.expectRefused("is in conflict") { try h.book("W1").archive(id) }

        // A manager at W2 settles it: both judgements stop counting, the new one stands.
        h.set("2026-11-27T10:30:00+08:00")
        let s = try h.book("W2", staff: "经理").judge(id, "valid", settles: true)
        #expect(s.settled == ["W1/\(id)/judge", "W2/\(id)/judge"])
        #expect(s.step.id == "W2/\(id)/judge#2")
        #expect(s.view.conflicts.isEmpty && s.view.judgement == .valid && s.view.stage == .judged && s.view.judgedAt == s.step.at)
        let settle = try #require(s.view.steps.first { $0.action == "settle" })
        #expect(settle.value == s.step.id && settle.note == "W1/\(id)/judge\nW2/\(id)/judge" && settle.person == "经理")

        try h.exchange("W1", "W2")
        let after = try #require(try h.view(id, on: "W1"))
        #expect(try h.view(id, on: "W2") == after)
        #expect(after.conflicts.isEmpty && after.judgement == .valid)
        #expect(after.steps.count == 4, "every step is kept: two judgements, the deciding one and the settle")
        #expect(try h.book("W1").assign(id, to: "grants").view.stage == .assigned)
    }

    @Test func theSameDecisionOnTwoWindowsIsNoConflict() throws {
        let h = try ServiceHall()
        let id = try h.openEverywhere()
        try h.book("W1").judge(id, "valid")
        try h.book("W2").judge(id, "valid")
        try h.exchange("W1", "W2")
        let v = try #require(try h.view(id, on: "W2"))
        #expect(v.conflicts.isEmpty && v.judgement == .valid && v.steps.count == 2)
        #expect(try h.view(id, on: "W1") == v)
        // Two invalid judgements with different answers agree too: the first answer is shown.
        let other = try h.openEverywhere()
        h.set("2026-11-27T10:01:00+08:00")
        try h.book("W2").judge(other, "invalid", answer: "first")
        h.set("2026-11-27T10:02:00+08:00")
        try h.book("W1").judge(other, "invalid", answer: "second")
        try h.exchange("W1", "W2")
        let w = try #require(try h.view(other, on: "W1"))
        #expect(try w.conflicts.isEmpty && w.stage == .closed && w.answer == "first" && w == h.view(other, on: "W2"))
    }

    @Test func departmentsAndFollowUpsThatDisagreeAreSettledToo() throws {
        let h = try ServiceHall()
        let id = try h.openEverywhere()
        try h.book("W1").judge(id, "valid")
        try h.exchange("W1", "W2")
        h.set("2026-11-27T11:00:00+08:00")
        try h.book("W1", staff: "张三").assign(id, to: "grants")
        try h.book("W2", staff: "李四").assign(id, to: "housing")
        try h.exchange("W1", "W2")
        let v = try #require(try h.view(id, on: "W2"))
        #expect(v.department == nil && v.stage == .assigned && v.conflicts.map(\.action) == [.assign])
        #expect(v.conflicts.first?.message.hasPrefix("assigned to grants on W1 (张三, 11:00) and housing on W2 (李四, 11:00); settle it by hand: `tally complaint assign \(id) DEPARTMENT --settles`") == true)
        try h.expectRefused("is in conflict: assigned to grants") { try h.book("W2").investigate(id, findings: "x") }
        try h.expectRefused("is in conflict") { try h.book("W2").assign(id, to: "housing") }
        try h.book("W1").assign(id, to: "housing", settles: true)
        try h.exchange("W1", "W2")
        #expect(try h.view(id, on: "W2")?.department == "housing")
        try h.book("W2").investigate(id, findings: "x")
        try h.book("W2").reply(id, told: "y")
        try h.exchange("W1", "W2")

        try h.book("W1", staff: "张三").followUp(id, "satisfied", note: "好")
        try h.book("W2", staff: "李四").followUp(id, "dissatisfied", note: "不好")
        try h.exchange("W1", "W2")
        let f = try #require(try h.view(id, on: "W1"))
        #expect(f.followUp == nil && f.stage == .followedUp && f.conflicts.map(\.action) == [.followUp])
        #expect(f.conflicts.first?.message.contains("followed up as satisfied on W1 (张三, 11:00) and dissatisfied on W2 (李四, 11:00)") == true)
        try h.expectRefused("is in conflict: followed up as") { try h.book("W1").archive(id) }
        try h.book("W2").followUp(id, "neutral", note: "回电确认 called back: it is fine", settles: true)
        try h.exchange("W1", "W2")
        #expect(try h.view(id, on: "W1")?.followUp == .neutral)
        try h.book("W1").archive(id)
        try h.exchange("W1", "W2")
        let end = try #require(try h.view(id, on: "W2"))
        #expect(try end.stage == .archived && end.conflicts.isEmpty && end == h.view(id, on: "W1"))
    }

    @Test func aSettleOverridesOnlyTheStepsItSaw() throws {
        let h = try ServiceHall(windows: [("W1", "complaints"), ("W2", "grants"), ("W3", "housing")])
        let id = try h.openEverywhere()
        h.set("2026-11-27T10:02:00+08:00")
        try h.book("W1", staff: "张三").judge(id, "valid")
        try h.book("W2", staff: "李四").judge(id, "invalid", answer: "no")
        try h.book("W3", staff: "王五").judge(id, "invalid", answer: "no")  // offline all along
        try h.exchange("W1", "W2")
        h.set("2026-11-27T10:30:00+08:00")
        try h.book("W1", staff: "经理").judge(id, "valid", settles: true)
        try h.exchange("W1", "W2")
        #expect(try h.view(id, on: "W2")?.conflicts.isEmpty == true)

        // W3's judgement arrives: nobody settled it, so the disagreement shows again.
        try h.exchange("W3", "W1")
        try h.exchange("W1", "W2")
        let views = try ["W1", "W2", "W3"].map { try #require(try h.view(id, on: $0)) }
        #expect(views[0] == views[1] && views[1] == views[2])
        #expect(views[0].conflicts.first?.message.hasPrefix("judged invalid on W3 (王五, 10:02) and valid on W1 (经理, 10:30)") == true)
    }

    /// Every step of a busy morning (a van, three windows, conflicts, a settle, repeated notes)
    /// delivered to two fresh replicas in seeded random orders, in random batches, with
    /// duplicates: both derive exactly what a replica that received everything at once derives.
    @Test(arguments: 0..<12) func anyOrderOfArrivalGivesTheSameViews(seed: UInt64) throws {
        let (h, ids) = try Self.busyMorning()
        var all = Set<Change>()
        for r in h.replicas.values { all.formUnion(try r.changes(since: VersionVector())) }
        let changes = all.sorted { ($0.site, $0.seq) < ($1.site, $1.seq) }
        let reference = try h.fresh("reference")
        try reference.apply(changes)
        let expected = try ComplaintBook.views(in: reference, now: h.now)
        #expect(expected.map(\.id) == ids)
        #expect(expected.flatMap(\.conflicts).map(\.action) == [.assign], "the scenario leaves one conflict standing")

        var rng = SeededGenerator(seed: 0xC0FFEE &+ seed)
        for name in ["a", "b"] {
            let r = try h.fresh(name)
            var order = changes.shuffled(using: &rng)
            // Duplicates: some changes come again, later.
            order += order.prefix(Int.random(in: 0...order.count, using: &rng)).shuffled(using: &rng)
            var i = 0
            while i < order.count {
                let n = Int.random(in: 1...5, using: &rng)
                try r.apply(order[i..<min(i + n, order.count)])
                i += n
            }
            let got = try ComplaintBook.views(in: r, now: h.now)
            #expect(got == expected, "seed \(seed), replica \(name): the views differ from the reference")
            #expect(got.map(\.conflicts) == expected.map(\.conflicts), "seed \(seed), replica \(name)")
        }
        // The devices themselves, once everyone has exchanged with everyone.
        let names = h.replicas.keys.sorted()
        for a in names { for b in names where a != b { try h.send(a, b) } }
        for w in ["W1", "W2", "W3"] {
            #expect(try ComplaintBook.views(in: h[w], now: h.now) == expected, "\(w) after a full exchange")
        }
    }

    /// A van and three windows, offline most of the time.
    static func busyMorning() throws -> (ServiceHall, [String]) {
        let h = try ServiceHall(windows: [("W1", "complaints"), ("W2", "grants"), ("W3", "housing")])
        try h.add("van-07", role: "van", scope: "R07")
        h.set("2026-11-27T08:40:00+08:00")
        let shop = try h.book("van-07", staff: "司机老周")
            .open(ComplaintRequest(about: "T0001", aboutKind: .ticket, byName: "张老板", phone: "13900000000", text: "货损 damaged cartons",
                                   wants: "换货 replacement", major: true, why: "第三次了 third time"))
        .id
        for w in ["W1", "W2", "W3"] { try h.send("van-07", w) }
        h.set("2026-11-27T09:00:00+08:00")
        let visitor = try h.book("W2", staff: "李四").open(ServiceHall.standard).id
        try h.send("W2", "W1")

        h.set("2026-11-27T09:10:00+08:00")
        try h.book("W1", staff: "张三").judge(shop, "valid")
        try h.book("W2", staff: "李四").judge(shop, "invalid", answer: "包装完好 packaging was intact")
        try h.book("W2", staff: "李四").judge(visitor, "valid")
        try h.exchange("W1", "W2")
        h.set("2026-11-27T09:20:00+08:00")
        try h.book("W1", staff: "经理").judge(shop, "valid", settles: true)
        try h.book("W1", staff: "张三").assign(visitor, to: "grants")
        try h.send("W1", "W3")
        h.set("2026-11-27T09:30:00+08:00")
        try h.book("W1", staff: "张三").assign(shop, to: "transport")
        try h.book("W3", staff: "王五").assign(shop, to: "housing")
        try h.book("W3", staff: "王五").investigate(visitor, findings: "排队系统故障 queue system was down")
        try h.book("W1", staff: "张三").investigate(visitor, findings: "窗口缺人 one clerk off sick")
        h.set("2026-11-27T09:40:00+08:00")
        try h.book("W1", staff: "张三").reply(visitor, told: "已致歉 apologised")
        try h.book("W1", staff: "张三").escalate(visitor, why: "VIP")
        return (h, [shop, visitor])
    }
}
