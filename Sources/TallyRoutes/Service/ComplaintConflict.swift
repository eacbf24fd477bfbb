/// Two or more devices decided the same thing differently (a judgement, a department, the
/// follow-up's opinion), each offline. Nobody's decision wins by its clock: the complaint stays
/// flagged with every side listed until a person records a deciding step with `--settles`.
/// Steps that agree are not a conflict, whichever devices took them.
public struct ComplaintConflict: Sendable, Equatable, Codable {
    /// One step taken on one side.
    public struct Side: Sendable, Equatable, Codable {
        /// The decision: `valid`/`invalid`, a department, an opinion.
        public var value: String
        public var step: String
        public var device: String
        public var person: String
        public var at: String
    }

    public var complaint: String
    /// `judge`, `assign` or `follow_up`.
    public var action: ComplaintAction
    /// Every step still standing, in time order.
    public var sides: [Side]

    init(complaint: String, action: ComplaintAction, steps: [ServiceStep]) {
        self.complaint = complaint
        self.action = action
        sides = steps.map { Side(value: Self.decision(of: $0, action) ?? "", step: $0.id, device: $0.device, person: $0.person, at: $0.at) }
            .sorted { (ComplaintView.ms($0.at), $0.step) < (ComplaintView.ms($1.at), $1.step) }
    }

    /// What a step of a deciding action decided.
    static func decision(of step: ServiceStep, _ action: ComplaintAction) -> String? {
        action == .assign ? step.department : step.value
    }

    /// The distinct values, in the order they were first decided.
    public var values: [String] {
        var seen: [String] = []
        for s in sides where !seen.contains(s.value) { seen.append(s.value) }
        return seen
    }

    /// For a person: "judged valid on W1 (张三, 10:02) and invalid on W2 (李四, 10:05); settle it
    /// by hand: `tally complaint judge C-… valid|invalid --settles`".
    public var message: String {
        let sameDay = Set(sides.map { $0.at.prefix(10) }).count <= 1
        func when(_ at: String) -> String {
            let b = Array(at)
            guard b.count >= 16 else { return at }
            return sameDay ? String(b[11..<16]) : String(b[0..<10]) + " " + String(b[11..<16])
        }
        let groups = values.map { v in
            let who = sides.filter { $0.value == v }.map { "\($0.device) (\($0.person), \(when($0.at)))" }
            return "\(v) on " + Self.list(who)
        }
        let verb: String
        let hint: String
        switch action {
        case .assign:
            verb = "assigned to"
            hint = "assign \(complaint) DEPARTMENT"
        case .followUp:
            verb = "followed up as"
            hint = "follow-up \(complaint) \(ComplaintOpinion.allCases.map(\.rawValue).joined(separator: "|")) --note TEXT"
        default:
            verb = "judged"
            hint = "judge \(complaint) valid|invalid"
        }
        return "\(verb) \(Self.list(groups)); settle it by hand: `tally complaint \(hint) --settles`"
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }
}
