import Foundation
import TallyReplica

/// The procedure after recording: judge -> assign -> investigate -> reply -> follow-up ->
/// archive (an invalid complaint: judge -> archive), with escalation at any time before the
/// archive. Each step is checked against what this replica holds: its predecessor must be
/// here, no earlier decision may be in conflict, and a decision is taken once (or settled).
/// Steps are taken at a window; a van records complaints only.
extension ComplaintBook {
    /// Judges a complaint `valid` or `invalid`. An invalid one is answered politely and closed:
    /// `answer` (what the complainant was told) is required and recorded.
    @discardableResult
    public func judge(_ id: String, _ verdict: String, answer: String? = nil, settles: Bool = false) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let verdict = ComplaintVerdict(rawValue: verdict.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw ServiceError.refused("a complaint is judged valid or invalid, not '\(verdict)'")
        }
        let answer = Self.trimmed(answer)
        if verdict == .invalid, answer == nil {
            throw ServiceError.refused("an invalid complaint is answered politely and closed: say what \(v.complaint.byName) was told with --answer TEXT")
        }
        let overridden = try decision(v, .judge, settles: settles)
        return try record(v, .judge, value: verdict.rawValue, note: answer, settling: overridden)
    }

    /// Escalates a complaint to a manager, saying why. Once is enough.
    @discardableResult
    public func escalate(_ id: String, why: String) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let why = Self.trimmed(why) else { throw ServiceError.refused("say why \(id) goes to a manager with --why TEXT") }
        if let e = v.standing(.escalate).first {
            throw ServiceError.refused("\(id) is already escalated on \(Self.who(e))\(e.note.map { ": \($0)" } ?? "")")
        }
        return try record(v, .escalate, note: why)
    }

    /// Hands a valid complaint to the department (a window kind) that investigates it.
    @discardableResult
    public func assign(_ id: String, to department: String, settles: Bool = false) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let department = Self.trimmed(department) else {
            throw ServiceError.refused("say which department investigates it: `tally complaint assign \(id) DEPARTMENT`")
        }
        try requireNoEarlierConflict(v, .assign)
        try requireJudgedValid(v)
        let overridden = try decision(v, .assign, settles: settles)
        return try record(v, .assign, department: department, settling: overridden)
    }

    /// Records what the investigation found. Every finding is kept.
    @discardableResult
    public func investigate(_ id: String, findings: String) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let findings = Self.trimmed(findings) else { throw ServiceError.refused("write down what was found with --findings TEXT") }
        try requireNoEarlierConflict(v, .investigate)
        try requireAssigned(v)
        return try record(v, .investigate, department: v.department, note: findings)
    }

    /// Records what the complainant was told. Every reply is kept.
    @discardableResult
    public func reply(_ id: String, told: String) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let told = Self.trimmed(told) else { throw ServiceError.refused("say what \(v.complaint.byName) was told with --told TEXT") }
        try requireNoEarlierConflict(v, .reply)
        try requireInvestigated(v)
        return try record(v, .reply, department: v.department, note: told)
    }

    /// Records the follow-up call: the complainant's final opinion (`satisfied`, `neutral`,
    /// `dissatisfied`) and their words.
    @discardableResult
    public func followUp(_ id: String, _ opinion: String, note: String, settles: Bool = false) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        guard let opinion = ComplaintOpinion(rawValue: opinion.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw ServiceError.refused("the complainant's final opinion is \(ComplaintOpinion.allCases.map(\.rawValue).joined(separator: ", ")), not '\(opinion)'")
        }
        guard let note = Self.trimmed(note) else {
            throw ServiceError.refused("write down \(v.complaint.byName)'s final opinion in their words with --note TEXT")
        }
        try requireNoEarlierConflict(v, .followUp)
        try requireReplied(v)
        let overridden = try decision(v, .followUp, settles: settles)
        return try record(v, .followUp, department: v.department, value: opinion.rawValue, note: note, settling: overridden)
    }

    /// Archives a complaint: after the follow-up call, or at once when it was judged invalid.
    @discardableResult
    public func archive(_ id: String) throws -> ComplaintStepRecord {
        let v = try stepping(id)
        try requireNoEarlierConflict(v, .archive)
        if v.judgement != .invalid {
            try requireReplied(v)
            guard v.followUp != nil else {
                throw ServiceError.refused("\(id) has had no follow-up call yet; record the complainant's final opinion first with `tally complaint follow-up \(id) satisfied|neutral|dissatisfied --note TEXT`")
            }
        }
        return try record(v, .archive, department: v.department)
    }

    // MARK: - Rules

    /// The complaint a step is taken on: only at a window, never once archived.
    func stepping(_ id: String) throws -> ComplaintView {
        guard actor.window != nil else {
            throw ServiceError.refused("complaint steps are taken at a service window; \(actor.place) records complaints only (`tally complaint open`)")
        }
        let v = try show(id)
        if let at = v.archivedAt { throw ServiceError.refused("\(id) was archived at \(HumanTime.local(at)); nothing more is recorded on it") }
        return v
    }

    /// The procedure's order, for which conflicts hold a step back.
    static let order: [ComplaintAction] = [.judge, .assign, .investigate, .reply, .followUp, .archive]

    /// A decision before this step still in conflict holds the step back until it is settled.
    func requireNoEarlierConflict(_ v: ComplaintView, _ action: ComplaintAction) throws {
        let rank = Self.order.firstIndex(of: action) ?? 0
        if let c = v.conflicts.first(where: { (Self.order.firstIndex(of: $0.action) ?? 0) < rank }) {
            throw ServiceError.refused("\(v.id) is in conflict: \(c.message)")
        }
    }

    func requireJudgedValid(_ v: ComplaintView) throws {
        switch v.judgement {
        case .valid?: return
        case .invalid?:
            throw ServiceError.refused("\(v.id) was judged invalid and closed (answered: \(v.answer ?? "")); it can only be archived: `tally complaint archive \(v.id)`")
        case nil:
            throw ServiceError.refused("\(v.id) has not been judged yet; judge it first with `tally complaint judge \(v.id) valid|invalid`")
        }
    }

    func requireAssigned(_ v: ComplaintView) throws {
        try requireJudgedValid(v)
        guard v.department != nil else {
            throw ServiceError.refused("\(v.id) is not assigned to a department yet; assign it first with `tally complaint assign \(v.id) DEPARTMENT`")
        }
    }

    func requireInvestigated(_ v: ComplaintView) throws {
        try requireAssigned(v)
        guard v.investigatedAt != nil else {
            throw ServiceError.refused("\(v.id) has not been investigated yet; record the findings first with `tally complaint investigate \(v.id) --findings TEXT`")
        }
    }

    func requireReplied(_ v: ComplaintView) throws {
        try requireInvestigated(v)
        guard v.repliedAt != nil else {
            throw ServiceError.refused("\(v.id) has not been replied to yet; record the reply first with `tally complaint reply \(v.id) --told TEXT`")
        }
    }

    /// A decision is taken once. In conflict, only a settling step is taken, and it overrides
    /// every step of the action standing here (returned); without a conflict there is nothing
    /// to settle.
    func decision(_ v: ComplaintView, _ action: ComplaintAction, settles: Bool) throws -> [String]? {
        if let c = v.conflicts.first(where: { $0.action == action }) {
            guard settles else { throw ServiceError.refused("\(v.id) is in conflict: \(c.message)") }
            return c.sides.map(\.step)
        }
        let standing = v.standing(action)
        guard !settles else {
            throw ServiceError.refused("there is no conflict over \(v.id)'s \(Self.what(action)) to settle"
                + (standing.first.map { " (\(Self.decided(action, $0)) on \(Self.who($0)))" } ?? "") + "; leave out --settles")
        }
        if let s = standing.first {
            throw ServiceError.refused("\(v.id) is already \(Self.decided(action, s)) on \(Self.who(s)); a decision is taken once")
        }
        return nil
    }

    // MARK: - Recording

    /// Appends the step (and, settling, the `settle` step naming what it overrides) in one
    /// transaction; returns it with the complaint as it now stands.
    func record(_ v: ComplaintView, _ action: ComplaintAction, department: String? = nil, value: String? = nil, note: String? = nil,
                settling overridden: [String]? = nil) throws -> ComplaintStepRecord {
        let ms = nowMilliseconds
        let at = IsoTime.formatPrecise(ms)
        let stepID = try replica.write { tx in
            let id = try ServiceLedger.append(tx, by: actor, subject: v.id, action: action.rawValue, at: at,
                                              department: department, value: value, note: note)
            if let overridden {
                try ServiceLedger.append(tx, by: actor, subject: v.id, action: ComplaintAction.settle.rawValue, at: at,
                                         value: id, note: overridden.joined(separator: "\n"))
            }
            return id
        }
        let view = try recorded(v.id, now: ms)
        guard let step = view.steps.first(where: { $0.id == stepID }) else {
            throw ReplicaError.storage("step \(stepID) was written but cannot be read back; check the replica with `tally replica status`")
        }
        return ComplaintStepRecord(step: step, settled: overridden ?? [], view: view)
    }

    // MARK: - Words

    static func trimmed(_ s: String?) -> String? {
        guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
        return t
    }

    /// "W1 (张三, 2026-11-28 10:02)".
    static func who(_ s: ServiceStep) -> String {
        let b = Array(s.at)
        let when = b.count >= 16 ? String(b[0..<10]) + " " + String(b[11..<16]) : s.at
        return "\(s.device) (\(s.person), \(when))"
    }

    static func what(_ action: ComplaintAction) -> String {
        switch action {
        case .assign: "department"
        case .followUp: "follow-up"
        default: "judgement"
        }
    }

    static func decided(_ action: ComplaintAction, _ s: ServiceStep) -> String {
        switch action {
        case .assign: "assigned to \(s.department ?? "")"
        case .followUp: "followed up (\(s.value ?? ""))"
        default: "judged \(s.value ?? "")"
        }
    }
}
