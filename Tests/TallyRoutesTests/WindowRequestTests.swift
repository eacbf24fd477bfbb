import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// The three handling modes of a request, every transition and every refusal.
@Suite struct WindowRequestTests {
    @Test func queueNumbersAreTheWindowsOwnSequencePerDay() throws {
        let h = try Hall()
        let w1 = try h.window("W1", kind: "grants")
        #expect(try w1.take(service: "grants").queue == "W1-001")
        #expect(try w1.take().queue == "W1-002")
        let r = try w1.take()
        #expect(r.id == "2026-11-27/W1-003" && r.state == .waiting && r.ownerDevice == "W1" && r.ownerWindow == "grants")
        h.set("2026-11-30T08:30:00+08:00")
        #expect(try w1.take().queue == "W1-001", "a new day starts again at 1")
        #expect(try w1.request("W1-001").day == "2026-11-30", "a bare number means today's")
        #expect(try w1.request("2026-11-27/W1-001").day == "2026-11-27")
    }

    @Test func anImmediateRequestIsOpenedAndFinishedAtTheCounter() throws {
        let h = try Hall()
        let w1 = try h.window("W1", kind: "grants", person: "张三")
        let n = try w1.take(service: "grants").queue
        try expectRefused(w1.replica, "has not been opened") { _ = try w1.finish(n) }
        try expectRefused(w1.replica, "satisfaction is asked once it is done") { _ = try w1.rate(n, .satisfied) }
        try expectRefused(w1.replica, "--visitor") { _ = try w1.open(n, mode: .immediate, visitor: " ", subject: "x") }
        try expectRefused(w1.replica, "--subject") { _ = try w1.open(n, mode: .immediate, visitor: "王", subject: "") }
        try expectRefused(w1.replica, "takes no departments") { _ = try w1.open(n, mode: .immediate, visitor: "王", subject: "x", departments: ["a"]) }
        let opened = try w1.open(n, mode: .immediate, visitor: "王小明", phone: "13800000001", subject: "开在读证明")
        #expect(opened.state == .open && opened.mode == .immediate && opened.dueBy == nil)
        try expectRefused(w1.replica, "already open") { _ = try w1.open(n, mode: .immediate, visitor: "王", subject: "x") }
        h.set("2026-11-27T09:12:00+08:00")
        let done = try w1.finish(n, satisfaction: .satisfied, comment: "很快")
        #expect(done.state == .done && done.minutesToFinish == 12 && done.satisfaction == .satisfied && done.comment == "很快")
        try expectRefused(w1.replica, "already done") { _ = try w1.finish(n) }
        try expectRefused(w1.replica, "already recorded") { _ = try w1.rate(n, .neutral) }
        try expectRefused(w1.replica, "already done") { _ = try w1.cancel(n, reason: "left") }
        let steps = try ServiceLedger.steps(w1.replica, of: done.id)
        #expect(steps.map(\.action) == ["finish", "rate"] && steps.allSatisfy { $0.person == "张三" && $0.device == "W1" && $0.window == "grants" })
    }

    @Test func anAppointmentIsDueInWorkingDaysAndListedWhenOverdue() throws {
        let h = try Hall()  // Friday 2026-11-27
        let w1 = try h.window("W1", kind: "counselling")
        try h.declare("2026-12-01", .holiday)  // Tuesday
        let n = try w1.take().queue
        try expectRefused(w1.replica, "from 1 to 60") { _ = try w1.open(n, mode: .appointment, visitor: "李", subject: "心理咨询", within: 0) }
        try expectRefused(w1.replica, "is joint") { _ = try w1.open(n, mode: .appointment, visitor: "李", subject: "x", departments: ["a", "b"]) }
        let r = try w1.open(n, mode: .appointment, visitor: "李同学", subject: "心理咨询")
        // Three working days after Friday: Monday 30, (Tuesday 1 a holiday), Wednesday 2, Thursday 3.
        #expect(r.dueBy == "2026-12-03")
        h.set("2026-12-03T17:00:00+08:00")
        #expect(try w1.request(r.id).overdue == false, "due by the end of the day")
        h.set("2026-12-04T08:00:00+08:00")
        #expect(try w1.request(r.id).overdue)
        #expect(try w1.requests().filter(\.overdue).map(\.id) == [r.id], "an unfinished request of an earlier day is listed")
        let done = try w1.finish(r.id)
        #expect(done.state == .done && !done.overdue)
    }

    @Test func aJointRequestIsDoneOnlyWhenEveryDepartmentSignedOffline() throws {
        let h = try Hall()
        let grants = try h.window("W1", kind: "grants", person: "张三")
        let housing = try h.window("W2", kind: "housing", person: "李四")
        let counselling = try h.window("W3", kind: "counselling")
        let n = try grants.take(service: "grants").queue
        try expectRefused(grants.replica, "two or more departments") { _ = try grants.open(n, mode: .joint, visitor: "王", subject: "x", departments: ["housing"]) }
        let r = try grants.open(n, mode: .joint, visitor: "王小明", subject: "助学金申请", departments: ["grants", "housing", "grants"], within: 3)
        #expect(r.departments == ["grants", "housing"] && r.dueBy == "2026-12-02" && r.stateText.contains("0 of 2"))
        try h.sync(grants, housing)
        try h.sync(grants, counselling)
        try expectRefused(counselling.replica, "nothing to sign") { _ = try counselling.sign(r.id) }
        try expectRefused(housing.replica, "only that window can finish") { _ = try housing.finish(r.id) }

        // Offline, each department signs on its own window.
        let one = try grants.sign(r.id)
        #expect(one.state == .open && one.unsigned == ["housing"])
        try expectRefused(grants.replica, "already signed") { _ = try grants.sign(r.id) }
        try expectRefused(grants.replica, "housing has not signed yet") { _ = try grants.finish(r.id) }
        let other = try housing.sign(r.id, note: "住房证明已开具")
        #expect(other.state == .open && other.unsigned == ["grants"])

        try h.sync(grants, housing)
        for w in [grants, housing] {
            let v = try w.request(r.id)
            #expect(v.state == .ready && v.signed["housing"]?.person == "李四" && v.signed["grants"]?.device == "W1")
        }
        let done = try grants.finish(r.id, satisfaction: .satisfied)
        #expect(done.state == .done && done.ownerDevice == "W1")
        try h.sync(grants, housing)
        #expect(try housing.request(r.id).state == .done)
        #expect(try grants.replica.digest() == housing.replica.digest())
    }

    @Test func aSecondWindowOfTheSameDepartmentCanSignButTheOwnerStaysTheOwner() throws {
        let h = try Hall()
        let owner = try h.window("W1", kind: "grants")
        let twin = try h.window("W4", kind: "housing")
        let twin2 = try h.window("W5", kind: "housing")
        let n = try owner.take().queue
        let r = try owner.open(n, mode: .joint, visitor: "王", subject: "x", departments: ["grants", "housing"])
        try h.sync(owner, twin)
        try h.sync(owner, twin2)
        _ = try twin.sign(r.id)
        _ = try twin2.sign(r.id)  // offline, the same department twice: both kept, counted once
        try h.sync(twin, twin2)
        try h.sync(owner, twin)
        let v = try owner.request(r.id)
        #expect(v.signed.count == 1 && v.unsigned == ["grants"])
        #expect(try ServiceLedger.steps(owner.replica, of: r.id).filter { $0.action == "sign" }.count == 2)
    }

    @Test func aCancelledRequestTakesNoMoreSteps() throws {
        let h = try Hall()
        let w1 = try h.window("W1", kind: "grants")
        let n = try w1.take().queue
        try expectRefused(w1.replica, "--reason") { _ = try w1.cancel(n, reason: " ") }
        let c = try w1.cancel(n, reason: "来访人离开")
        #expect(c.state == .cancelled && c.stateText == "cancelled: 来访人离开")
        try expectRefused(w1.replica, "already cancelled") { _ = try w1.finish(n) }
        try expectRefused(w1.replica, "already cancelled") { _ = try w1.open(n, mode: .immediate, visitor: "x", subject: "y") }
    }

    @Test func aClosedDayTakesNothingMore() throws {
        let h = try Hall()
        let w1 = try h.window("W1", kind: "grants")
        _ = try w1.take()
        try expectRefused(w1.replica, "not synced") { _ = try w1.closeDay(unsynced: Unsynced(changes: 3, blobs: 0)) }
        let (_, s) = try w1.closeDay(unsynced: Unsynced(changes: 0, blobs: 0))
        #expect(s.taken == 1 && s.unexplained.contains { $0.contains("never served") })
        try expectRefused(w1.replica, "is closed") { _ = try w1.take() }
        try expectRefused(w1.replica, "already closed") { _ = try w1.closeDay(unsynced: Unsynced(changes: 0, blobs: 0)) }
        h.set("2026-11-30T08:00:00+08:00")
        #expect(try w1.take().queue == "W1-001")
    }

    @Test func aComplaintAboutAQueueNumberNamesTheRequest() throws {
        let h = try Hall()
        let w1 = try h.window("W1", kind: "grants")
        let r = try w1.take()
        let desk = try h.window("W9", kind: "supervision")
        try h.sync(w1, desk)
        let c = try ComplaintBook.joined(desk.replica, clock: h.clock).open(ComplaintRequest(about: r.queue, byName: "王", text: "等太久"))
        #expect(c.complaint.aboutKind == .request && c.complaint.about == r.id)
    }
}
