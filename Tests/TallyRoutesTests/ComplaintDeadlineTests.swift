import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Complaint deadlines in working days of the depot's calendar: investigation by the end of the
/// first working day after opening, the reply by the end of the second (Beijing time). Overdue
/// while missing past that day; a step taken late stays late.
@Suite struct ComplaintDeadlineTests {
    typealias H = ServiceHall

    /// 2026's National Day week: Thursday 1 to Wednesday 7 October off (3 and 4 are a weekend),
    /// Sunday 27 September and Saturday 10 October worked instead (调休).
    static let nationalDay: [String: WorkCalendar.DayKind] = [
        "2026-10-01": .holiday, "2026-10-02": .holiday, "2026-10-05": .holiday, "2026-10-06": .holiday, "2026-10-07": .holiday,
        "2026-09-27": .workday, "2026-10-10": .workday,
    ]

    func opened(_ h: ServiceHall, at time: String) throws -> ComplaintView {
        h.set(time)
        return try h.book("W1").open(H.standard)
    }

    @Test func openedOnFridayIsInvestigatedByMondayAndRepliedByTuesday() throws {
        let h = try ServiceHall()
        let id = try opened(h, at: "2026-11-27T16:00:00+08:00").id
        var v = try #require(try h.view(id, on: "W1"))
        #expect(v.investigateDeadline == "2026-11-30" && v.replyDeadline == "2026-12-01")

        h.set("2026-11-30T23:59:59+08:00")
        v = try #require(try h.view(id, on: "W1"))
        #expect(!v.overdue && v.dueNext == ComplaintView.Deadline(step: .investigate, by: "2026-11-30", overdue: false))

        h.set("2026-12-01T00:00:01+08:00")
        v = try #require(try h.view(id, on: "W1"))
        #expect(v.investigateOverdue && !v.replyOverdue && v.overdue, "never judged: the clock ran all the same")
        #expect(v.dueNext == ComplaintView.Deadline(step: .investigate, by: "2026-11-30", overdue: true))
        #expect(try h.book("W1").list(overdueOnly: true).map(\.id) == [id])

        h.set("2026-12-01T09:00:00+08:00")
        let b = try h.book("W1")
        try b.advance(id, to: .investigated)
        v = try #require(try h.view(id, on: "W1"))
        #expect(!v.investigateOverdue && v.investigatedLate && !v.overdue, "late stays late, but is no longer overdue")
        #expect(v.dueNext == ComplaintView.Deadline(step: .reply, by: "2026-12-01", overdue: false))

        h.set("2026-12-02T00:00:01+08:00")
        v = try #require(try h.view(id, on: "W1"))
        #expect(v.replyOverdue && v.overdue && v.dueNext?.overdue == true)

        h.set("2026-12-02T10:00:00+08:00")
        let r = try b.reply(id, told: "已处理")
        #expect(r.view.repliedLate && !r.view.overdue && r.view.workingDaysToReply == 3 && r.view.dueNext == nil)
        #expect(try b.list(overdueOnly: true).isEmpty)
    }

    @Test func aStepOnItsDeadlineDayIsInTime() throws {
        let h = try ServiceHall()
        let id = try opened(h, at: "2026-11-27T16:00:00+08:00").id
        let b = try h.book("W1")
        h.set("2026-11-30T23:00:00+08:00")
        try b.advance(id, to: .investigated)
        h.set("2026-12-01T23:59:00+08:00")
        let v = try b.reply(id, told: "done").view
        #expect(!v.investigatedLate && !v.repliedLate && v.workingDaysToReply == 2 && !v.overdue)
    }

    @Test func aWeekendOpeningCountsFromMonday() throws {
        let h = try ServiceHall()
        for day in ["2026-11-28", "2026-11-29"] {
            let v = try opened(h, at: "\(day)T11:00:00+08:00")
            #expect(v.investigateDeadline == "2026-11-30" && v.replyDeadline == "2026-12-01", "\(day)")
        }
        let thursday = try opened(h, at: "2026-11-26T11:00:00+08:00")
        #expect(thursday.investigateDeadline == "2026-11-27" && thursday.replyDeadline == "2026-11-30")
    }

    @Test func holidaysDoNotCountAndMakeUpWorkdaysDo() throws {
        let h = try ServiceHall()
        try h.declare(Self.nationalDay)
        #expect(try WorkCalendar.load(h["W1"]) == WorkCalendar(declared: Self.nationalDay))

        // The day before the holiday week: due when it is over.
        let before = try opened(h, at: "2026-09-30T15:00:00+08:00")
        #expect(before.investigateDeadline == "2026-10-08" && before.replyDeadline == "2026-10-09")
        // Opened on a holiday: the same.
        let during = try opened(h, at: "2026-10-02T10:00:00+08:00")
        #expect(during.investigateDeadline == "2026-10-08" && during.replyDeadline == "2026-10-09")
        // The Friday after: Saturday's make-up workday counts.
        let friday = try opened(h, at: "2026-10-09T10:00:00+08:00")
        #expect(friday.investigateDeadline == "2026-10-10" && friday.replyDeadline == "2026-10-12")
        // The Saturday before: Sunday's make-up workday counts.
        let saturday = try opened(h, at: "2026-09-26T10:00:00+08:00")
        #expect(saturday.investigateDeadline == "2026-09-27" && saturday.replyDeadline == "2026-09-28")

        // Overdue only once the holiday week and the deadline day are over.
        h.set("2026-10-08T23:00:00+08:00")
        #expect(try h.view(before.id, on: "W1")?.overdue == false)
        h.set("2026-10-09T00:00:01+08:00")
        #expect(try h.view(before.id, on: "W1")?.investigateOverdue == true)
        h.set("2026-10-11T09:00:00+08:00")
        let f = try #require(try h.view(friday.id, on: "W1"))
        #expect(f.investigateOverdue && !f.replyOverdue, "Saturday the 10th was a working day")

        // Replied on the Monday after the make-up Saturday: two working days (Saturday and Monday).
        h.set("2026-10-12T10:00:00+08:00")
        let b = try h.book("W1")
        try b.advance(friday.id, to: .replied)
        let r = try #require(try h.view(friday.id, on: "W1"))
        #expect(r.workingDaysToReply == 2 && r.investigatedLate && !r.repliedLate)
    }

    @Test func noDeadlineRunsForAnInvalidOrArchivedComplaint() throws {
        let h = try ServiceHall()
        let invalid = try opened(h, at: "2026-11-27T16:00:00+08:00").id
        let valid = try h.book("W1").open(H.standard).id
        h.set("2026-12-10T10:00:00+08:00")
        let b = try h.book("W1")
        #expect(try b.list(overdueOnly: true).map(\.id) == [invalid, valid])
        try b.judge(invalid, "invalid", answer: "不属实")
        try b.advance(valid, to: .archived)
        let views = try b.list()
        #expect(views.allSatisfy { !$0.overdue && $0.dueNext == nil })
        #expect(views[1].investigatedLate && views[1].repliedLate, "archived late: still late")
        #expect(try b.list(overdueOnly: true).isEmpty)
    }
}
