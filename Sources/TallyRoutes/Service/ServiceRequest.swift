import TallyReplica

/// How a request is handled.
public enum RequestMode: String, Sendable, Codable, CaseIterable {
    /// Opened and finished at the counter.
    case immediate
    /// Finished within a promised number of working days (`due_by`); overdue after.
    case appointment
    /// Needs the sign-off of two or more departments; done only when all have signed.
    case joint

    public var label: String {
        switch self {
        case .immediate: "immediate 即办"
        case .appointment: "appointment 预约"
        case .joint: "joint 联办"
        }
    }
}

/// A visitor's opinion of how a request (or a complaint) was handled.
public enum Satisfaction: String, Sendable, Codable, CaseIterable {
    case satisfied, neutral, dissatisfied

    public var chinese: String {
        switch self {
        case .satisfied: "满意"
        case .neutral: "一般"
        case .dissatisfied: "不满意"
        }
    }
}

/// Where a request stands. Derived from its row and its steps, never stored: every device that
/// holds the same steps derives the same state, whatever order they arrived in.
public enum RequestState: String, Sendable, Codable {
    /// A number was taken; the visitor has not been served yet.
    case waiting
    /// Opened; being handled (a joint request: some departments have not signed).
    case open
    /// A joint request every department has signed: the owner can finish it.
    case ready
    case done
    /// Withdrawn or abandoned, with the reason.
    case cancelled
}

/// The steps a request records in `service_steps`.
public enum RequestAction: String, Sendable, CaseIterable {
    /// A department's sign-off on a joint request (`department`).
    case sign
    /// The owner finished the request.
    case finish
    /// The owner cancelled it (`note` = why).
    case cancel
    /// The visitor's satisfaction (`value`, `note` = comment).
    case rate
}

/// A request as people read it: its row, its steps and what follows from them.
public struct RequestView: Sendable, Codable, Equatable {
    public var id: String
    public var queue: String
    public var day: String
    public var service: String?
    /// The first-contact owner: the window kind and device that took the number. It owns the
    /// request until it is done, whoever else takes part.
    public var ownerWindow: String
    public var ownerDevice: String
    public var takenAt: String
    public var mode: RequestMode?
    public var visitor: String?
    public var phone: String?
    public var subject: String?
    public var openedAt: String?
    /// The last day it may be finished on (appointments; joint requests given a limit).
    public var dueBy: String?
    /// The departments whose sign-off a joint request needs, and who has signed.
    public var departments: [String]
    public var signed: [String: ServiceStep]
    public var state: RequestState
    public var finishedAt: String?
    public var cancelReason: String?
    public var satisfaction: Satisfaction?
    public var comment: String?
    /// Past `dueBy` and not done (as of the day it was read).
    public var overdue: Bool

    /// Departments still to sign.
    public var unsigned: [String] { departments.filter { signed[$0] == nil } }

    /// Minutes from opening to finishing, when both are known.
    public var minutesToFinish: Int? {
        guard let a = openedAt.flatMap(IsoTime.parse), let b = finishedAt.flatMap(IsoTime.parse), b >= a else { return nil }
        return Int((b - a) / 60_000)
    }

    /// Reads a request's row and steps; `today` decides whether it is overdue.
    public init(row: Row, steps: [ServiceStep], today: String) {
        id = row.key
        queue = row["queue"].text ?? row.key
        day = row["day"].text ?? ""
        service = row["service"].text
        ownerWindow = row["window"].text ?? ""
        ownerDevice = row["device"].text ?? ""
        takenAt = row["taken_at"].text ?? ""
        mode = row["mode"].text.flatMap(RequestMode.init(rawValue:))
        visitor = row["visitor"].text
        phone = row["phone"].text
        subject = row["subject"].text
        openedAt = row["opened_at"].text
        dueBy = row["due_by"].text
        departments = Self.departments(row["departments"].text)
        var signed: [String: ServiceStep] = [:]
        var finish: ServiceStep?, cancel: ServiceStep?, rate: ServiceStep?
        for s in steps {  // in time order: the first sign-off of a department counts
            switch RequestAction(rawValue: s.action) {
            case .sign?: if let d = s.department, signed[d] == nil { signed[d] = s }
            case .finish?: if finish == nil { finish = s }
            case .cancel?: if cancel == nil { cancel = s }
            case .rate?: rate = s  // the latest opinion
            case nil: break
            }
        }
        self.signed = signed
        finishedAt = finish?.at
        cancelReason = cancel?.note
        satisfaction = rate?.value.flatMap(Satisfaction.init(rawValue:))
        comment = rate?.note
        if finish != nil {
            state = .done
        } else if cancel != nil {
            state = .cancelled
        } else if mode == nil {
            state = .waiting
        } else if mode == .joint && departments.allSatisfy({ signed[$0] != nil }) {
            state = .ready
        } else {
            state = .open
        }
        overdue = (state == .open || state == .ready) && dueBy.map { today > $0 } == true
    }

    /// The stored list of departments ("grants|housing").
    static func departments(_ text: String?) -> [String] {
        (text ?? "").split(separator: "|").map(String.init).filter { !$0.isEmpty }
    }

    /// The state as a person reads it: "open: 1 of 2 signed (housing to sign)".
    public var stateText: String {
        switch state {
        case .open where mode == .joint:
            "open: \(signed.count) of \(departments.count) signed (\(unsigned.joined(separator: ", ")) to sign)"
        case .ready: "ready: all \(departments.count) departments signed"
        case .cancelled: "cancelled\(cancelReason.map { ": \($0)" } ?? "")"
        default: state.rawValue
        }
    }
}
