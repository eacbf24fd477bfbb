import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// `ComplaintBook`: recording a complaint, every step of the procedure, and every refusal (which
/// changes nothing on any replica).
@Suite struct ComplaintStateTests {
    typealias H = ServiceHall

    // MARK: - Recording

    @Test func aWindowRecordsAComplaintWithItsOwnSequence() throws {
        let h = try ServiceHall()
        let book = try h.book("W1", staff: " 王芳 ")
        let v = try book.open(H.standard)
        #expect(v.id == "C-W1-20261127-1")
        let c = v.complaint
        #expect(c.window == "complaints" && c.route == nil && c.device == "W1" && c.day == "2026-11-27")
        #expect(c.openedAt == "2026-11-27T10:00:00.000+08:00")
        #expect(c.aboutKind == .device && c.about == "van-07")
        #expect(c.byName == "王先生" && c.phone == "13800000000" && c.wants == "道歉 an apology" && c.recordedBy == "王芳")
        #expect(!c.major && !v.escalated && v.steps.isEmpty)
        #expect(v.stage == .recorded && v.dueNext == ComplaintView.Deadline(step: .investigate, by: "2026-11-30", overdue: false))
        // The row is as the schema says.
        let row = try #require(try h["W1"].row("complaints", key: v.id))
        #expect(row["major"] == 0 && row["recorded_by"] == "王芳" && row["about_kind"] == "device" && row["text"] == "司机态度不好 the driver was rude")

        #expect(try book.open(H.standard).id == "C-W1-20261127-2")
        // Another window's numbers never collide; the next day starts again at 1.
        #expect(try h.book("W2").open(H.standard).id == "C-W2-20261127-1")
        h.set("2026-11-30T09:00:00+08:00")
        #expect(try book.open(H.standard).id == "C-W1-20261130-1")
        #expect(try book.list().map(\.id) == ["C-W1-20261127-1", "C-W1-20261127-2", "C-W1-20261130-1"])
    }

    @Test func theStaffDefaultsToTheDevice() throws {
        let h = try ServiceHall()
        let v = try h.book("W1").open(H.standard)
        #expect(v.complaint.recordedBy == "W1")
        let r = try h.book("W1", staff: "李四").judge(v.id, "valid")
        #expect(r.step.person == "李四" && r.step.device == "W1" && r.step.window == "complaints" && r.step.route == nil)
        #expect(r.step.at == "2026-11-27T10:00:00.000+08:00" && r.step.day == "2026-11-27")
    }

    @Test func whatItIsAboutIsInferredFromTheReplica() throws {
        // On a van: the tickets of its route are known.
        let van = try VanFixture()
        let book = try ComplaintBook.joined(van.replica, person: "司机老周", clock: van.clock)
        let t = try book.open(ComplaintRequest(about: "T0001", byName: "张老板", text: "少了一箱 one carton short"))
        #expect(t.id == "C-van-07-20261128-1")
        #expect(t.complaint.aboutKind == .ticket && t.complaint.route == "R07" && t.complaint.window == nil)
        #expect(try book.open(ComplaintRequest(about: "T9999", byName: "张老板", text: "?")).complaint.aboutKind == .device)

        // At a window: a request it holds; a ticket only when told.
        let h = try ServiceHall()
        try h["W1"].write { tx in try tx.insert("requests", key: "2026-11-27/G-017", ["window": "complaints", "day": "2026-11-27"]) }
        let w = try h.book("W1")
        #expect(try w.open(ComplaintRequest(about: "2026-11-27/G-017", byName: "访客", text: "等太久")).complaint.aboutKind == .request)
        #expect(try w.open(ComplaintRequest(about: "T0001", byName: "张老板", text: "x")).complaint.aboutKind == .device)
        #expect(try w.open(ComplaintRequest(about: "T0001", aboutKind: .ticket, byName: "张老板", text: "x")).complaint.aboutKind == .ticket)
    }

    @Test func aMajorComplaintIsEscalatedAtOnce() throws {
        let h = try ServiceHall()
        var r = H.standard
        r.major = true
        let v = try h.book("W1", staff: "王芳").open(r)
        #expect(v.major && v.escalated && v.stage == .recorded)
        #expect(v.steps.map(\.action) == ["escalate"] && v.steps[0].person == "王芳" && v.steps[0].at == v.openedAt)
        #expect(v.escalations == ["major complaint: escalated to a manager at once"])
        r.why = "媒体关注 the press called"
        #expect(try h.book("W1").open(r).escalations == ["媒体关注 the press called"])

        // On a van too: the escalation is the van's own step, under its route.
        let van = try VanFixture()
        let m = try ComplaintBook.joined(van.replica, clock: van.clock).open(ComplaintRequest(about: "T0001", byName: "张老板", text: "货损", major: true))
        #expect(m.steps.count == 1 && m.steps[0].route == "R07" && m.steps[0].device == "van-07")
    }

    @Test func openRefusesWhatIsMissing() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        try h.expectRefused("--text TEXT") { try b.open(ComplaintRequest(about: "van-07", byName: "王先生", text: "  ")) }
        try h.expectRefused("--by NAME") { try b.open(ComplaintRequest(about: "van-07", byName: "", text: "rude")) }
        try h.expectRefused("--about") { try b.open(ComplaintRequest(about: " ", byName: "王先生", text: "rude")) }
    }

    @Test func anAccountantsDeviceRecordsNothing() throws {
        let h = try ServiceHall()
        let r = try h.add("ACC", role: "accountant", scope: "all")
        #expect(throws: ServiceError.self) { try ComplaintBook.joined(r, clock: h.clock) }
        let plain = try h.fresh("unjoined")
        let e = #expect(throws: ServiceError.self) { try ComplaintBook.joined(plain, clock: h.clock) }
        #expect(e?.description.contains("tally join") == true)
    }

    // MARK: - The valid path

    @Test func theValidPathGoesThroughEveryStage() throws {
        let h = try ServiceHall()
        let b = try h.book("W1", staff: "王芳")
        let id = try b.open(H.standard).id
        var at = 10
        func step(_ body: () throws -> ComplaintStepRecord) throws -> ComplaintStepRecord {
            at += 1
            h.set("2026-11-27T\(at):00:00+08:00")
            return try body()
        }
        let j = try step { try b.judge(id, "valid") }
        #expect(j.view.stage == .judged && j.view.judgement == .valid && j.step.value == "valid" && j.step.action == "judge")
        #expect(j.step.id == "W1/\(id)/judge" && j.view.judgedAt == "2026-11-27T11:00:00.000+08:00")
        let a = try step { try b.assign(id, to: " grants ") }
        #expect(a.view.stage == .assigned && a.view.department == "grants" && a.step.department == "grants")
        let i = try step { try b.investigate(id, findings: "查明属实") }
        #expect(i.view.stage == .investigated && i.view.investigatedAt == "2026-11-27T13:00:00.000+08:00" && i.view.findings == ["查明属实"])
        #expect(i.step.department == "grants" && !i.view.investigatedLate)
        #expect(i.view.dueNext == ComplaintView.Deadline(step: .reply, by: "2026-12-01", overdue: false))
        let r = try step { try b.reply(id, told: "已道歉") }
        #expect(r.view.stage == .replied && r.view.replies == ["已道歉"] && r.view.workingDaysToReply == 0 && r.view.dueNext == nil)
        let f = try step { try b.followUp(id, "Satisfied", note: "满意") }
        #expect(f.view.stage == .followedUp && f.view.followUp == .satisfied && f.view.followUpNote == "满意")
        let x = try step { try b.archive(id) }
        #expect(x.view.stage == .archived && x.view.archivedAt == "2026-11-27T16:00:00.000+08:00")
        #expect(x.view.steps.map(\.action) == ["judge", "assign", "investigate", "reply", "follow_up", "archive"])
        #expect(x.view.steps.allSatisfy { $0.person == "王芳" && $0.device == "W1" && $0.window == "complaints" })
        #expect(x.view.conflicts.isEmpty && !x.view.overdue)
    }

    @Test func everyFindingAndReplyIsKept() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        let id = try b.open(H.standard).id
        try b.advance(id, to: .investigated)
        let second = try b.investigate(id, findings: "the GPS log agrees")
        #expect(second.step.id == "W1/\(id)/investigate#2")
        try b.reply(id, told: "first call")
        let v = try b.reply(id, told: "second call, with the manager").view
        #expect(v.findings == ["查明属实 the driver shouted", "the GPS log agrees"])
        #expect(v.replies == ["first call", "second call, with the manager"])
        #expect(v.stage == .replied)
    }

    // MARK: - The invalid path

    @Test func anInvalidComplaintIsAnsweredClosedAndArchived() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        let id = try b.open(H.standard).id
        try h.expectRefused("--answer TEXT", "王先生") { try b.judge(id, "invalid") }
        try h.expectRefused("--answer TEXT") { try b.judge(id, "invalid", answer: "  ") }
        let j = try b.judge(id, "invalid", answer: "司机按规定操作 the driver followed the rules")
        #expect(j.view.stage == .closed && j.view.judgement == .invalid && j.view.answer == "司机按规定操作 the driver followed the rules")
        #expect(j.view.dueNext == nil && j.step.note == j.view.answer)
        h.set("2026-12-10T10:00:00+08:00")
        #expect(try h.view(id, on: "W1")?.overdue == false, "an invalid complaint has no deadlines")
        for (what, body) in [("assign", { try b.assign(id, to: "grants") }), ("investigate", { try b.investigate(id, findings: "x") }),
                             ("reply", { try b.reply(id, told: "x") }), ("follow-up", { try b.followUp(id, "neutral", note: "x") })] as [(String, () throws -> ComplaintStepRecord)] {
            let m = try h.expectRefused("judged invalid and closed", "tally complaint archive \(id)") { try body() }
            #expect(!m.isEmpty, "\(what)")
        }
        let x = try b.archive(id)
        #expect(x.view.stage == .archived && x.view.judgement == .invalid)
    }

    // MARK: - Refusals

    @Test func aStepNeedsItsPredecessorOnThisDevice() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        let id = try h.openEverywhere()
        try h.expectRefused("has not been judged yet", "tally complaint judge \(id)") { try b.assign(id, to: "grants") }
        try h.expectRefused("has not been judged yet") { try b.investigate(id, findings: "x") }
        try h.expectRefused("has not been judged yet") { try b.archive(id) }
        try b.judge(id, "valid")
        try h.expectRefused("not assigned to a department yet", "tally complaint assign \(id) DEPARTMENT") { try b.investigate(id, findings: "x") }
        try h.expectRefused("not assigned") { try b.reply(id, told: "x") }
        try b.assign(id, to: "grants")
        try h.expectRefused("has not been investigated yet", "tally complaint investigate \(id)") { try b.reply(id, told: "x") }
        try b.investigate(id, findings: "x")
        try h.expectRefused("has not been replied to yet", "tally complaint reply \(id)") { try b.followUp(id, "neutral", note: "x") }
        try h.expectRefused("has not been replied to yet") { try b.archive(id) }
        try b.reply(id, told: "x")
        try h.expectRefused("has had no follow-up call yet", "tally complaint follow-up \(id)") { try b.archive(id) }

        // Another window that has not synced since the opening holds none of the steps.
        let w2 = try h.book("W2")
        try h.expectRefused("has not been judged yet") { try w2.assign(id, to: "grants") }
    }

    @Test func nothingIsRecordedOnAnArchivedComplaint() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        let id = try b.open(H.standard).id
        try b.advance(id, to: .archived)
        try h.expectRefused("\(id) was archived at 2026-11-27 10:00", "nothing more") { try b.judge(id, "valid") }
        try h.expectRefused("was archived") { try b.escalate(id, why: "late anger") }
        try h.expectRefused("was archived") { try b.investigate(id, findings: "more") }
        try h.expectRefused("was archived") { try b.reply(id, told: "more") }
        try h.expectRefused("was archived") { try b.followUp(id, "dissatisfied", note: "changed my mind") }
        try h.expectRefused("was archived") { try b.archive(id) }
    }

    @Test func wordsAndValuesAreChecked() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        let id = try b.open(H.standard).id
        try h.expectRefused("valid or invalid, not 'maybe'") { try b.judge(id, "maybe") }
        try b.judge(id, "valid")
        try h.expectRefused("say which department", "tally complaint assign \(id) DEPARTMENT") { try b.assign(id, to: " ") }
        try b.assign(id, to: "grants")
        try h.expectRefused("--findings TEXT") { try b.investigate(id, findings: "") }
        try b.investigate(id, findings: "x")
        try h.expectRefused("--told TEXT") { try b.reply(id, told: " ") }
        try b.reply(id, told: "x")
        try h.expectRefused("satisfied, neutral, dissatisfied, not 'happy'") { try b.followUp(id, "happy", note: "fine") }
        try h.expectRefused("in their words with --note TEXT") { try b.followUp(id, "satisfied", note: "") }
        try h.expectRefused("--why TEXT") { try b.escalate(id, why: "") }
    }

    @Test func anUnknownComplaintSaysHowToListThem() throws {
        let h = try ServiceHall()
        let b = try h.book("W1")
        try h.expectRefused("there is no complaint C-W1-20261127-9", "tally complaint list") { try b.judge("C-W1-20261127-9", "valid") }
        try h.expectRefused("there is no complaint") { try b.archive("nope") }
        #expect(throws: ServiceError.self) { try b.show("nope") }
    }

    @Test func aVanRecordsComplaintsOnly() throws {
        let van = try VanFixture()
        let book = try ComplaintBook.joined(van.replica, clock: van.clock)
        let id = try book.open(ComplaintRequest(about: "T0001", byName: "张老板", text: "少了一箱")).id
        let before = try van.replica.digest()
        for body in [{ try book.judge(id, "valid") }, { try book.escalate(id, why: "x") }, { try book.assign(id, to: "grants") },
                     { try book.archive(id) }] as [() throws -> ComplaintStepRecord] {
            let e = #expect(throws: ServiceError.self) { try body() }
            #expect(e?.description.contains("taken at a service window; van R07 (van-07) records complaints only") == true)
        }
        #expect(try van.replica.digest() == before)
        #expect(try book.list().map(\.stage) == [.recorded])
    }

    @Test func aDecisionIsTakenOnce() throws {
        let h = try ServiceHall()
        let b = try h.book("W1", staff: "张三")
        let id = try b.open(H.standard).id
        try h.expectRefused("no conflict over \(id)'s judgement to settle", "leave out --settles") { try b.judge(id, "valid", settles: true) }
        try b.judge(id, "valid")
        try h.expectRefused("\(id) is already judged valid on W1 (张三, 2026-11-27 10:00)") { try b.judge(id, "valid") }
        try h.expectRefused("already judged valid") { try b.judge(id, "invalid", answer: "no") }
        try h.expectRefused("no conflict over \(id)'s judgement to settle (judged valid on W1") { try b.judge(id, "invalid", answer: "no", settles: true) }
        try b.assign(id, to: "grants")
        try h.expectRefused("already assigned to grants") { try b.assign(id, to: "housing") }
        try h.expectRefused("no conflict over \(id)'s department") { try b.assign(id, to: "housing", settles: true) }
        try b.investigate(id, findings: "x")
        try b.reply(id, told: "y")
        try h.expectRefused("already judged") { try b.advance(id, to: .replied) }
        try b.followUp(id, "neutral", note: "ok")
        try h.expectRefused("already followed up (neutral)") { try b.followUp(id, "satisfied", note: "better") }
    }

    @Test func escalationIsRecordedOnceAndAnyTimeBeforeTheArchive() throws {
        let h = try ServiceHall()
        let b = try h.book("W1", staff: "张三")
        let id = try b.open(H.standard).id
        try b.advance(id, to: .investigated)
        let e = try b.escalate(id, why: "repeat complaint")
        #expect(e.view.escalated && e.view.escalations == ["repeat complaint"] && e.view.stage == .investigated && !e.view.major)
        try h.expectRefused("already escalated on W1 (张三, 2026-11-27 10:00): repeat complaint") { try b.escalate(id, why: "again") }

        var major = H.standard
        major.major = true
        let m = try b.open(major).id
        try h.expectRefused("already escalated") { try b.escalate(m, why: "again") }
    }
}
