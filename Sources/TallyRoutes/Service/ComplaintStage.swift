/// How far a complaint has come. Derived from its steps, never stored: the highest stage whose
/// step exists, so the same set of steps gives the same stage whatever order they arrived in.
///
/// The valid path is recorded < judged < assigned < investigated < replied < followed_up <
/// archived; an invalid complaint is answered and closed at once: recorded < closed < archived.
public enum ComplaintStage: String, Sendable, Codable, CaseIterable, Comparable {
    case recorded
    case judged
    case assigned
    case investigated
    case replied
    case followedUp = "followed_up"
    /// Judged invalid: answered politely, the answer recorded, nothing more to do but archive.
    case closed
    case archived

    /// Position on its path (closed sits with judged: both are the judgement).
    var rank: Int {
        switch self {
        case .recorded: 0
        case .judged, .closed: 1
        case .assigned: 2
        case .investigated: 3
        case .replied: 4
        case .followedUp: 5
        case .archived: 6
        }
    }

    public static func < (a: ComplaintStage, b: ComplaintStage) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : (a == .judged && b == .closed)
    }

    /// The stage a step of this action reaches on the valid path.
    static func reached(by action: ComplaintAction) -> ComplaintStage? {
        switch action {
        case .judge: .judged
        case .assign: .assigned
        case .investigate: .investigated
        case .reply: .replied
        case .followUp: .followedUp
        case .archive: .archived
        case .escalate, .settle: nil
        }
    }
}

/// The actions of a complaint's steps (`service_steps.action`).
///
/// - `judge`: value `valid` or `invalid`; an invalid one carries the answer given (note).
/// - `escalate`: to a manager; note says why.
/// - `assign`: department = the department (a window kind) that investigates.
/// - `investigate`: note = the findings. Every one is kept.
/// - `reply`: note = what the complainant was told. Every one is kept.
/// - `follow_up`: value = the complainant's opinion (`ComplaintOpinion`), note = their words.
/// - `archive`: the end.
/// - `settle`: a person's decision over a conflict, recorded with the deciding step of the
///   conflicting action in one transaction. Its value names the deciding step, its note the
///   ids of the steps it overrides, one a line (see `ComplaintBook`).
public enum ComplaintAction: String, Sendable, Codable, CaseIterable {
    case judge
    case escalate
    case assign
    case investigate
    case reply
    case followUp = "follow_up"
    case archive
    case settle

    /// The actions whose steps must agree: two devices deciding differently is a conflict.
    public static let decisions: [ComplaintAction] = [.judge, .assign, .followUp]
}

/// A judgement of a complaint.
public enum ComplaintVerdict: String, Sendable, Codable, CaseIterable {
    case valid
    case invalid
}

/// The complainant's final opinion at the follow-up call: the same scale visitors rate
/// requests on.
public typealias ComplaintOpinion = Satisfaction
