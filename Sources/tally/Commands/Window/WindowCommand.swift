import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct WindowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window",
        abstract: "A service window's day, offline: queue numbers, requests (immediate, by appointment, joint), fees, deposits, day close.",
        discussion: "Every command works without a network and records on the window's own replica; `tally sync` carries it to the depot and brings the other windows' requests and sign-offs. A refused command prints one line saying why, exits 1 and records nothing.",
        subcommands: [WindowTake.self, WindowOpen.self, WindowSign.self, WindowFinish.self, WindowRate.self, WindowCancel.self,
                      WindowRequests.self, WindowShow.self, WindowFeeCommand.self, WindowDeposit.self, WindowVoid.self, WindowEvents.self,
                      WindowSummary.self, WindowCloseDay.self])
}

/// The window's book, from `--replica`, and the clerk at the counter.
struct WindowOptions: ParsableArguments {
    @OptionGroup var replica: ReplicaPathOption
    @Option(help: "The clerk at the counter, recorded with each step (default: the window's device name).")
    var staff: String?
    @Flag(help: "Print the result as JSON.")
    var json = false

    func book() throws -> WindowBook {
        try WindowBook.joined(try Replica.open(at: replica.path, options: .cli()), person: staff, clock: cliClock)
    }
}

/// A request in one line: "W1-003  joint 联办  open: 1 of 2 signed (housing to sign)  张三 …".
enum RequestText {
    static func line(_ r: RequestView) -> String {
        var parts = [r.queue, r.mode?.label ?? "waiting 等候", r.stateText]
        if let v = r.visitor { parts.append(v) }
        if let s = r.subject { parts.append(s) }
        if let d = r.dueBy { parts.append("due by \(d)\(r.overdue ? " OVERDUE 已超期" : "")") }
        return parts.joined(separator: "  ")
    }

    static func table(_ list: [RequestView]) -> String {
        var t = TextTable(["number", "day", "owner", "mode", "visitor", "subject", "state", "due by", "satisfaction"])
        for r in list {
            t.add([r.queue, r.day, "\(r.ownerWindow) (\(r.ownerDevice))", r.mode?.label ?? "waiting 等候", r.visitor ?? "", r.subject ?? "",
                   r.stateText, (r.dueBy ?? "") + (r.overdue ? " OVERDUE" : ""), r.satisfaction.map { "\($0.rawValue) \($0.chinese)" } ?? ""])
        }
        return t.render()
    }
}

struct WindowTake: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "take", abstract: "Hand out the next queue number.",
        discussion: "The number is the window's name and its own sequence for the day (W1-007): no two windows ever hand out the same number, even offline.")
    @Option(help: "The service asked for (a code such as orders, crate_deposit).")
    var service: String?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let r = try window.book().take(service: service)
        if window.json { try Console.json(r); return }
        Console.out("number \(r.queue) (\(r.day)\(r.service.map { ", \($0)" } ?? "")): call it, then `tally window open \(r.queue) …`")
    }
}

struct WindowOpen: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a request taken at this window: the visitor, what they ask, and how it is handled.")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @Option(help: "The visitor's name.")
    var visitor: String
    @Option(help: "The visitor's phone.")
    var phone: String?
    @Option(help: "What the visitor asks for.")
    var subject: String
    @Flag(help: "Handled at the counter now.")
    var immediate = false
    @Option(help: "By appointment, finished within this many working days.")
    var appointment: Int?
    @Option(help: "Joint: the departments (window kinds) that must sign, comma-separated.")
    var joint: String?
    @Option(help: "A joint request's time limit in working days.")
    var within: Int?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let modes = [immediate, appointment != nil, joint != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("say how the request is handled: --immediate, --appointment DAYS or --joint DEPT,DEPT") }
        let mode: RequestMode = immediate ? .immediate : appointment != nil ? .appointment : .joint
        let depts = (joint ?? "").split(separator: ",").map { String($0) }
        let r = try window.book().open(number, mode: mode, visitor: visitor, phone: phone, subject: subject, departments: depts,
                                       within: mode == .appointment ? appointment : within)
        if window.json { try Console.json(r); return }
        Console.out("opened \(RequestText.line(r))")
    }
}

struct WindowSign: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Sign this window's department's part of a joint request (any window's).",
        discussion: "Works offline; the sign-off reaches the owning window with the next sync of both.")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @Option(help: "A note on the sign-off.")
    var note: String?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let r = try window.book().sign(number, note: note)
        if window.json { try Console.json(r); return }
        Console.out("signed for \(try window.book().window): \(RequestText.line(r))")
    }
}

struct WindowFinish: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "finish", abstract: "Finish a request this window owns (a joint one once every department signed).")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @Option(help: "The visitor's satisfaction: satisfied, neutral or dissatisfied.")
    var satisfaction: String?
    @Option(help: "The visitor's comment.")
    var comment: String?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let s = try satisfaction.map(satisfactionArgument)
        let r = try window.book().finish(number, satisfaction: s, comment: comment)
        if window.json { try Console.json(r); return }
        Console.out("done \(RequestText.line(r))" + (r.minutesToFinish.map { ", \($0) min from opening" } ?? ""))
    }
}

/// Parses satisfied / neutral / dissatisfied (or 满意 / 一般 / 不满意).
func satisfactionArgument(_ text: String) throws -> Satisfaction {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let s = Satisfaction(rawValue: t) ?? Satisfaction.allCases.first(where: { $0.chinese == t }) { return s }
    throw ValidationError("'\(text)' is not an opinion; say satisfied, neutral or dissatisfied")
}

struct WindowRate: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "rate", abstract: "Record the visitor's satisfaction with a finished request.")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @Argument(help: "satisfied, neutral or dissatisfied.")
    var satisfaction: String
    @Option(help: "The visitor's comment.")
    var comment: String?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let r = try window.book().rate(number, try satisfactionArgument(satisfaction), comment: comment)
        if window.json { try Console.json(r); return }
        Console.out("recorded \(r.queue): \(r.satisfaction.map { "\($0.rawValue) \($0.chinese)" } ?? "")\(r.comment.map { " (\($0))" } ?? "")")
    }
}

struct WindowCancel: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a request this window owns, with the reason.")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @Option(help: "Why (the visitor left, withdrew…).")
    var reason: String
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let r = try window.book().cancel(number, reason: reason)
        if window.json { try Console.json(r); return }
        Console.out("cancelled \(r.queue): \(r.cancelReason ?? "")")
    }
}

struct WindowRequests: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests", abstract: "The hall's requests: today's and every unfinished one, with owner and state.")
    @Flag(help: "Every day's, finished ones included.")
    var all = false
    @Flag(help: "Only overdue ones.")
    var overdue = false
    @Flag(help: "Only joint requests this window's department still has to sign.")
    var toSign = false
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let book = try window.book()
        var list = try book.requests(all: all)
        if overdue { list = list.filter(\.overdue) }
        if toSign { list = list.filter { $0.state == .open && $0.unsigned.contains(book.window) } }
        if window.json { try Console.json(list); return }
        Console.out(list.isEmpty ? "no requests" : RequestText.table(list))
    }
}

struct WindowShow: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One request: its owner, handling, sign-offs and steps.")
    @Argument(help: "The queue number (or DAY/NUMBER).")
    var number: String
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let book = try window.book()
        let r = try book.request(number)
        if window.json { try Console.json(r); return }
        Console.out("\(r.queue) (\(r.id)), owner \(r.ownerWindow) (\(r.ownerDevice)), taken \(r.takenAt)\n\(RequestText.line(r))")
        for d in r.departments {
            let s = r.signed[d]
            Console.out("  \(d): " + (s.map { "signed \($0.at) by \($0.person) on \($0.device)\($0.note.map { ", \($0)" } ?? "")" } ?? "not signed yet"))
        }
        for s in try ServiceLedger.steps(book.replica, of: r.id) {
            Console.out("  \(s.at)  \(s.action)\(s.department.map { " \($0)" } ?? "")\(s.value.map { " \($0)" } ?? "")  \(s.person) at \(s.place)\(s.note.map { ": \($0)" } ?? "")")
        }
    }
}
