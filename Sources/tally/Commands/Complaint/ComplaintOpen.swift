import ArgumentParser
import TallyRoutes

extension ComplaintAboutKind: ExpressibleByArgument {}

struct ComplaintOpen: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Record a complaint, on any van or window.",
        discussion: """
            --about names a ticket, a request (DAY/QUEUE) or a device; what it is is inferred from what this \
            replica holds (a window holds no tickets: give --about-kind ticket). --major escalates it to a manager \
            at once.
            """)
    @Option(help: "What the complaint is about: a ticket, a request or a device.")
    var about: String
    @Option(help: "Force what --about is: ticket, request or device.")
    var aboutKind: ComplaintAboutKind?
    @Option(help: "The complainant's name.")
    var by: String
    @Option(help: "The complainant's phone number.")
    var phone: String?
    @Option(help: "The complaint, in the complainant's words.")
    var text: String
    @Option(help: "What the complainant asks for.")
    var wants: String?
    @Flag(help: "A major complaint: escalated to a manager at once.")
    var major = false
    @Option(help: "Why it is major (with --major).")
    var why: String?
    @OptionGroup var options: ComplaintOptions

    func execute() throws {
        if why != nil && !major { throw ValidationError("--why goes with --major") }
        let v = try options.book().open(ComplaintRequest(about: about, aboutKind: aboutKind, byName: by, phone: phone, text: text,
                                                          wants: wants, major: major, why: why))
        if options.json { try Console.json(v); return }
        let c = v.complaint
        Console.out("recorded complaint \(c.id) about \(c.aboutKind.rawValue) \(c.about) from \(c.byName)\(c.phone.map { " (\($0))" }.orEmpty)"
            + " at \(c.place) by \(c.recordedBy)" + (v.escalated ? "; escalated to a manager" : "")
            + "; investigate by \(v.investigateDeadline), reply by \(v.replyDeadline)")
    }
}
