import ArgumentParser
import TallyRoutes

struct ComplaintAssign: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "Hand a valid complaint to the department that investigates it.",
        discussion: "With --settles, decides a conflict between windows that assigned it to different departments.")
    @Argument(help: "The complaint.")
    var complaint: String
    @Argument(help: "The department (a window kind).")
    var department: String
    @Flag(help: "Settle a conflict over the department.")
    var settles = false
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().assign(complaint, to: department, settles: settles)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "assigned to \(r.step.department.orEmpty)"))
    }
}

struct ComplaintInvestigate: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "investigate", abstract: "Record what the investigation found (due by the first working day after opening).")
    @Argument(help: "The complaint.")
    var complaint: String
    @Option(help: "What was found.")
    var findings: String
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().investigate(complaint, findings: findings)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "investigated" + (r.view.investigatedLate ? " (LATE: due by \(r.view.investigateDeadline))" : "")))
    }
}

struct ComplaintReply: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "reply", abstract: "Record what the complainant was told (due by the second working day after opening).")
    @Argument(help: "The complaint.")
    var complaint: String
    @Option(help: "What the complainant was told.")
    var told: String
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().reply(complaint, told: told)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "replied to" + (r.view.repliedLate ? " (LATE: due by \(r.view.replyDeadline))" : "")))
    }
}
