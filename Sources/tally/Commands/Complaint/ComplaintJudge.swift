import ArgumentParser
import TallyRoutes

struct ComplaintJudge: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Judge a complaint valid or invalid; an invalid one is answered and closed.",
        discussion: "With --settles, decides a conflict between windows that judged differently: the steps standing on this device no longer count.")
    @Argument(help: "The complaint.")
    var complaint: String
    @Argument(help: "valid or invalid.")
    var verdict: String
    @Option(help: "What the complainant was told (required for invalid).")
    var answer: String?
    @Flag(help: "Settle a conflict over the judgement.")
    var settles = false
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().judge(complaint, verdict, answer: answer, settles: settles)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, r.step.value == "invalid" ? "judged invalid, answered and closed" : "judged valid"))
    }
}

struct ComplaintEscalate: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "escalate", abstract: "Escalate a complaint to a manager.")
    @Argument(help: "The complaint.")
    var complaint: String
    @Option(help: "Why it goes to a manager.")
    var why: String
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().escalate(complaint, why: why)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "escalated to a manager"))
    }
}
