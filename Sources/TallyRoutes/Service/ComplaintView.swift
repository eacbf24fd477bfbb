/// A complaint with everything its steps say: stage, decisions, deadlines, conflicts.
///
/// A pure function of the complaint, the set of its steps, the calendar and the time: the
/// steps are a grow-only set the sync engine merges, so every replica holding the same steps
/// derives the same view, whatever order they arrived in. Reports build on it
/// (`ComplaintBook.views(in:now:)`).
public struct ComplaintView: Sendable, Equatable, Codable {
    public var complaint: Complaint
    /// The highest stage whose step exists (`ComplaintStage`). A judgement still in conflict
    /// leaves the stage on the valid path (at least `judged`); settled invalid, it is `closed`.
    public var stage: ComplaintStage
    /// Nil before the judgement, or while it is in conflict.
    public var judgement: ComplaintVerdict?
    public var judgedAt: String?
    /// The answer given for an invalid complaint.
    public var answer: String?
    /// Escalated to a manager (a major complaint at once, or any later escalation).
    public var escalated: Bool
    /// Why, one note per escalation.
    public var escalations: [String]
    /// The department investigating; nil before the assignment, or while it is in conflict.
    public var department: String?
    /// The first investigation's time, and every finding recorded.
    public var investigatedAt: String?
    public var findings: [String]
    /// The first reply's time, and everything the complainant was told.
    public var repliedAt: String?
    public var replies: [String]
    /// The follow-up call: the complainant's final opinion (nil before it, or in conflict) and
    /// their words.
    public var followUp: ComplaintOpinion?
    public var followUpNote: String?
    public var archivedAt: String?
    /// Deadlines, as dates: each ends at the end of that day, Beijing time. Investigation by the
    /// first working day after opening, the reply by the second (`WorkCalendar`).
    public var investigateDeadline: String
    public var replyDeadline: String
    /// Past its deadline day with the step still missing (never for a complaint judged invalid
    /// or archived).
    public var investigateOverdue: Bool
    public var replyOverdue: Bool
    /// Taken, but after its deadline day: late stays late.
    public var investigatedLate: Bool
    public var repliedLate: Bool
    /// Working days from opening to the first reply (0: the same day).
    public var workingDaysToReply: Int?
    /// The next deadline still open, if any.
    public var dueNext: Deadline?
    /// Decisions that disagree, until a person settles them.
    public var conflicts: [ComplaintConflict]
    /// Every step, in time order.
    public var steps: [ServiceStep]

    /// A step still to take, and the day it is due by.
    public struct Deadline: Sendable, Equatable, Codable {
        /// `investigate` or `reply`.
        public var step: ComplaintAction
        public var by: String
        public var overdue: Bool
    }

    public var id: String { complaint.id }
    public var openedAt: String { complaint.openedAt }
    public var major: Bool { complaint.major }
    /// Past a deadline with its step missing.
    public var overdue: Bool { investigateOverdue || replyOverdue }

    /// Derives the view. `steps` may hold other subjects' steps and duplicates; only this
    /// complaint's count, each once. `now` is milliseconds since 1970.
    public init(complaint: Complaint, steps allSteps: [ServiceStep], calendar: WorkCalendar, now: UInt64) {
        self.complaint = complaint
        var byID: [String: ServiceStep] = [:]
        for s in allSteps where s.subject == complaint.id { byID[s.id] = s }
        let steps = byID.values.sorted { (Self.ms($0.at), $0.id) < (Self.ms($1.at), $1.id) }
        self.steps = steps

        func all(_ a: ComplaintAction) -> [ServiceStep] { steps.filter { $0.action == a.rawValue } }
        func standing(_ a: ComplaintAction) -> [ServiceStep] { Self.standing(a, in: steps) }

        var conflicts: [ComplaintConflict] = []
        /// The one value the standing steps agree on; nil when none, or when they disagree.
        func decided(_ a: ComplaintAction) -> (value: String, steps: [ServiceStep])? {
            let s = standing(a)
            let values = Set(s.map { ComplaintConflict.decision(of: $0, a) ?? "" })
            if values.count > 1 { conflicts.append(ComplaintConflict(complaint: complaint.id, action: a, steps: s)) }
            guard values.count == 1, let v = values.first else { return nil }
            return (v, s)
        }

        let judge = decided(.judge)
        judgement = judge.flatMap { ComplaintVerdict(rawValue: $0.value) }
        judgedAt = judge?.steps.first?.at
        answer = judgement == .invalid ? judge?.steps.compactMap(\.note).first : nil
        let escalations = all(.escalate)
        escalated = !escalations.isEmpty
        self.escalations = escalations.compactMap(\.note)
        department = decided(.assign)?.value
        let investigations = all(.investigate)
        investigatedAt = investigations.first?.at
        findings = investigations.compactMap(\.note)
        let replies = all(.reply)
        repliedAt = replies.first?.at
        self.replies = replies.compactMap(\.note)
        let follow = decided(.followUp)
        followUp = follow.flatMap { ComplaintOpinion(rawValue: $0.value) }
        followUpNote = follow?.steps.compactMap(\.note).first
        archivedAt = all(.archive).first?.at
        self.conflicts = conflicts

        if archivedAt != nil {
            stage = .archived
        } else if judgement == .invalid {
            stage = .closed
        } else {
            stage = steps.compactMap { ComplaintAction(rawValue: $0.action).flatMap(ComplaintStage.reached(by:)) }.max() ?? .recorded
        }

        // Deadlines: none for a complaint answered as invalid, or archived.
        let investigateBy = calendar.workingDay(after: complaint.day, count: 1)
        let replyBy = calendar.workingDay(after: complaint.day, count: 2)
        investigateDeadline = investigateBy
        replyDeadline = replyBy
        let today = IsoTime.date(ofMilliseconds: now)
        let running = judgement != .invalid && stage != .archived
        let investigateOverdue = running && investigatedAt == nil && today > investigateBy
        let replyOverdue = running && repliedAt == nil && today > replyBy
        self.investigateOverdue = investigateOverdue
        self.replyOverdue = replyOverdue
        investigatedLate = investigatedAt.map { Self.date($0) > investigateBy } ?? false
        repliedLate = repliedAt.map { Self.date($0) > replyBy } ?? false
        workingDaysToReply = repliedAt.map { calendar.workingDays(from: complaint.day, to: Self.date($0)) }
        if !running {
            dueNext = nil
        } else if investigatedAt == nil {
            dueNext = Deadline(step: .investigate, by: investigateBy, overdue: investigateOverdue)
        } else if repliedAt == nil {
            dueNext = Deadline(step: .reply, by: replyBy, overdue: replyOverdue)
        } else {
            dueNext = nil
        }
    }

    /// The steps of an action that still count, in time order: all of them but those a `settle`
    /// step overrode.
    public func standing(_ action: ComplaintAction) -> [ServiceStep] { Self.standing(action, in: steps) }

    static func standing(_ action: ComplaintAction, in steps: [ServiceStep]) -> [ServiceStep] {
        let overridden = Set(steps.filter { $0.action == ComplaintAction.settle.rawValue }
            .flatMap { ($0.note ?? "").split(separator: "\n").map(String.init) })
        return steps.filter { $0.action == action.rawValue && !overridden.contains($0.id) }
    }

    /// Milliseconds of a recorded time (0 when unreadable, so it sorts first everywhere).
    static func ms(_ at: String) -> UInt64 { IsoTime.parse(at) ?? 0 }

    /// The Beijing date of a recorded time.
    static func date(_ at: String) -> String {
        IsoTime.parse(at).map { IsoTime.date(ofMilliseconds: $0) } ?? String(at.prefix(10))
    }

    /// Every field, nulls included, so the JSON has the same keys for every complaint.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(complaint, forKey: .complaint)
        try c.encode(stage, forKey: .stage)
        try c.encode(judgement, forKey: .judgement)
        try c.encode(judgedAt, forKey: .judgedAt)
        try c.encode(answer, forKey: .answer)
        try c.encode(escalated, forKey: .escalated)
        try c.encode(escalations, forKey: .escalations)
        try c.encode(department, forKey: .department)
        try c.encode(investigatedAt, forKey: .investigatedAt)
        try c.encode(findings, forKey: .findings)
        try c.encode(repliedAt, forKey: .repliedAt)
        try c.encode(replies, forKey: .replies)
        try c.encode(followUp, forKey: .followUp)
        try c.encode(followUpNote, forKey: .followUpNote)
        try c.encode(archivedAt, forKey: .archivedAt)
        try c.encode(investigateDeadline, forKey: .investigateDeadline)
        try c.encode(replyDeadline, forKey: .replyDeadline)
        try c.encode(investigateOverdue, forKey: .investigateOverdue)
        try c.encode(replyOverdue, forKey: .replyOverdue)
        try c.encode(investigatedLate, forKey: .investigatedLate)
        try c.encode(repliedLate, forKey: .repliedLate)
        try c.encode(workingDaysToReply, forKey: .workingDaysToReply)
        try c.encode(dueNext, forKey: .dueNext)
        try c.encode(conflicts, forKey: .conflicts)
        try c.encode(steps, forKey: .steps)
    }
}
