import ArgumentParser
import TallyRoutes

struct ComplaintFollowUp: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow-up", abstract: "Record the follow-up call: the complainant's final opinion.",
        discussion: "With --settles, decides a conflict between windows that recorded different opinions.")
    @Argument(help: "The complaint.")
    var complaint: String
    @Argument(help: "satisfied, neutral or dissatisfied.")
    var opinion: String
    @Option(help: "The complainant's final opinion, in their words.")
    var note: String
    @Flag(help: "Settle a conflict over the follow-up.")
    var settles = false
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().followUp(complaint, opinion, note: note, settles: settles)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "followed up (\(r.step.value.orEmpty))"))
    }
}

struct ComplaintArchive: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Archive a complaint: after the follow-up call, or once judged invalid.")
    @Argument(help: "The complaint.")
    var complaint: String
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        let r = try options.book().archive(complaint)
        if options.json { try Console.json(r.view); return }
        Console.out(ComplaintText.recorded(r, "archived"))
    }
}
