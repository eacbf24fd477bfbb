import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

struct ComplaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaint",
        abstract: "Complaints: recorded on any van or window, judged, assigned, investigated, replied to, followed up, archived.",
        discussion: """
            A van records complaints only (`open`); the steps are taken at a window. Every step records who, when \
            and on which device, and works offline; steps taken on two windows merge. When two windows decided \
            differently (a judgement, a department, a follow-up), the complaint shows the conflict until someone \
            records the decision again with --settles. Deadlines count working days of the depot's calendar: \
            investigation by the first working day after opening, the reply by the second. A refused command \
            prints one line saying why, exits 1 and records nothing.
            """,
        subcommands: [ComplaintOpen.self, ComplaintJudge.self, ComplaintEscalate.self, ComplaintAssign.self, ComplaintInvestigate.self,
                      ComplaintReply.self, ComplaintFollowUp.self, ComplaintArchive.self, ComplaintList.self, ComplaintShow.self])
}

/// The device's complaint book, from `--replica`, with the member of staff taking the step.
struct ComplaintOptions: ParsableArguments {
    @OptionGroup var replica: ReplicaPathOption
    @Option(help: "The member of staff (default: the device's name).")
    var staff: String?
    @Flag(help: "Print the result as JSON.")
    var json = false

    func book() throws -> ComplaintBook {
        try ComplaintBook.joined(try Replica.open(at: replica.path, options: .cli()), person: staff, clock: cliClock)
    }
}

/// The one line a step command prints.
enum ComplaintText {
    /// "C-W1-20261128-1 judged valid by 王芳 at window complaints (W1), 10:02; recorded as …; next: …".
    static func recorded(_ r: ComplaintStepRecord, _ what: String) -> String {
        let s = r.step
        return "\(r.view.id) \(what) by \(s.person) at \(s.place), \(time(s.at))"
            + (r.settled.isEmpty ? "" : "; settles \(r.settled.joined(separator: ", "))")
            + "; recorded as \(s.id)" + next(r.view).map { "; next: \($0)" }.orEmpty
    }

    /// What is left to do, in a few words; nil once archived.
    static func next(_ v: ComplaintView) -> String? {
        if let c = v.conflicts.first { return "settle the conflict (\(c.action.rawValue))" }
        switch v.stage {
        case .recorded: return "judge it valid or invalid"
        case .judged: return "assign it to a department"
        case .assigned: return "investigate by \(v.investigateDeadline)"
        case .investigated: return "reply by \(v.replyDeadline)"
        case .replied: return "the follow-up call"
        case .followedUp, .closed: return "archive it"
        case .archived: return nil
        }
    }

    /// "2026-11-28 10:02" of a recorded time.
    static func time(_ at: String) -> String {
        let b = Array(at)
        return b.count >= 16 ? String(b[0..<10]) + " " + String(b[11..<16]) : at
    }

    /// "investigate by 2026-11-30", "reply by 2026-12-01 OVERDUE", or "-".
    static func due(_ v: ComplaintView) -> String {
        guard let d = v.dueNext else { return "-" }
        return "\(d.step.rawValue) by \(d.by)" + (d.overdue ? " OVERDUE" : "")
    }

    static func state(_ v: ComplaintView) -> String {
        v.stage.rawValue + (v.escalated ? ", escalated" : "")
    }
}

extension Optional where Wrapped == String {
    var orEmpty: String { self ?? "" }
}
