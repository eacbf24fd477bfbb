import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

/// Where a listing reads: a device's replica, or the depot's (every complaint of every device).
struct ComplaintSource: ParsableArguments {
    @OptionGroup var replica: ReplicaPathOption
    @Option(help: "A depot's data folder: read the depot's replica instead of a device's.")
    var data: String?
    @Flag(help: "Print the result as JSON.")
    var json = false

    func open() throws -> Replica {
        if let data { return try DepotFolder(data).replica(schema: RouteSchema.current, options: .cli()) }
        return try Replica.open(at: replica.path, options: .cli())
    }

    var now: UInt64 { cliClock.nowMilliseconds() }
}

struct ComplaintList: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Complaints with their state, department, next deadline and conflicts.",
        discussion: "On a device, the complaints its replica holds (a van: those it recorded); with --data, the whole depot's.")
    @Flag(help: "Only complaints past a deadline with the step still missing.")
    var overdue = false
    @OptionGroup var source: ComplaintSource

    func execute() throws {
        let views = try ComplaintBook.views(in: try source.open(), now: source.now).filter { !overdue || $0.overdue }
        if source.json { try Console.json(views); return }
        guard !views.isEmpty else {
            Console.out(overdue ? "no complaint is overdue" : "no complaints yet; record one with `tally complaint open`")
            return
        }
        var t = TextTable(["id", "opened", "about", "by", "state", "department", "due next", "device", "conflicts"])
        for v in views {
            let c = v.complaint
            t.add([c.id, ComplaintText.time(c.openedAt), "\(c.aboutKind.rawValue) \(c.about)", c.byName, ComplaintText.state(v),
                   v.department ?? "-", ComplaintText.due(v), c.device,
                   v.conflicts.isEmpty ? "-" : v.conflicts.map { "\($0.action.rawValue): \($0.values.joined(separator: "|"))" }.joined(separator: "; ")])
        }
        var out = t.render()
        for v in views {
            for c in v.conflicts { out += "\n\(v.id): \(c.message)" }
        }
        Console.out(out)
    }
}

struct ComplaintShow: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One complaint with every step: who, when, on which device.")
    @Argument(help: "The complaint.")
    var complaint: String
    @OptionGroup var source: ComplaintSource

    func execute() throws {
        guard let v = try ComplaintBook.view(complaint, in: try source.open(), now: source.now) else {
            throw ValidationError("there is no complaint \(complaint) here; `tally complaint list` lists them")
        }
        if source.json { try Console.json(v); return }
        let c = v.complaint
        var head = TextTable(["", ""])
        head.add(["complaint", "\(c.id)  \(ComplaintText.state(v))" + (c.major ? "  major" : "")])
        head.add(["about", "\(c.aboutKind.rawValue) \(c.about)"])
        head.add(["by", c.byName + (c.phone.map { "  \($0)" }.orEmpty)])
        head.add(["complaint text", c.text])
        head.add(["wants", c.wants ?? "-"])
        head.add(["recorded", "\(ComplaintText.time(c.openedAt)) at \(c.place) by \(c.recordedBy)"])
        head.add(["department", v.department ?? "-"])
        head.add(["investigate by", v.investigateDeadline + (v.investigateOverdue ? " OVERDUE" : v.investigatedLate ? " (done late)" : "")])
        head.add(["reply by", v.replyDeadline + (v.replyOverdue ? " OVERDUE" : v.repliedLate ? " (done late)" : "")])
        if let f = v.followUp { head.add(["follow-up", f.rawValue + (v.followUpNote.map { ": \($0)" }.orEmpty)]) }
        var steps = TextTable(["at", "step", "value", "person", "device", "note"])
        for s in v.steps {
            steps.add([ComplaintText.time(s.at), s.action, (s.action == "assign" ? s.department : s.value) ?? "", s.person, s.place,
                       (s.note ?? "").replacingOccurrences(of: "\n", with: ", ")])
        }
        var out = head.render(header: false) + "\n\n" + (v.steps.isEmpty ? "no steps yet" : steps.render())
        for x in v.conflicts { out += "\nconflict: \(x.message)" }
        Console.out(out)
    }
}
