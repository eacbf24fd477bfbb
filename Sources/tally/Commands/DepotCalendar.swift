import ArgumentParser
import TallyDepot
import TallyReplica
import TallyRoutes

struct DepotCalendar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "The working-day calendar complaint and appointment deadlines are counted in.",
        discussion: "Monday to Friday are working days unless declared holidays; a weekend day declared a workday (调休) is one. Every device receives the calendar at its next sync.",
        subcommands: [CalendarAdd.self, CalendarAddWorkday.self, CalendarRemove.self, CalendarList.self])
}

struct CalendarAdd: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "add-holiday", abstract: "Declare a weekday a holiday.")
    @Argument(help: "The date, like 2027-01-01.")
    var date: String
    @Option(help: "What the holiday is (元旦, 春节…).")
    var note: String?
    @OptionGroup var data: DataOption

    func execute() throws {
        try WorkCalendar.declare(date, .holiday, note: note, in: try data.folder.replica(schema: RouteSchema.current, options: .cli()))
        Console.out("\(date) is a holiday\(note.map { " (\($0))" } ?? ""); devices learn it at their next sync")
    }
}

struct CalendarAddWorkday: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "add-workday", abstract: "Declare a weekend day a working day (a make-up day, 调休).")
    @Argument(help: "The date.")
    var date: String
    @Option(help: "Why.")
    var note: String?
    @OptionGroup var data: DataOption

    func execute() throws {
        try WorkCalendar.declare(date, .workday, note: note, in: try data.folder.replica(schema: RouteSchema.current, options: .cli()))
        Console.out("\(date) is a working day\(note.map { " (\($0))" } ?? ""); devices learn it at their next sync")
    }
}

struct CalendarRemove: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Take back a holiday or workday declaration.")
    @Argument(help: "The date.")
    var date: String
    @OptionGroup var data: DataOption

    func execute() throws {
        let removed = try WorkCalendar.remove(date, in: try data.folder.replica(schema: RouteSchema.current, options: .cli()))
        Console.out(removed ? "\(date) follows the week again" : "nothing was declared for \(date)")
    }
}

struct CalendarList: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The declared holidays and workdays.")
    @OptionGroup var data: DataOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let replica = try data.folder.replica(schema: RouteSchema.current, options: .cli())
        let rows = try replica.rows("calendar").filter(\.isLive).sorted { $0.key < $1.key }
        if json { try Console.json(rows.map { ["date": $0.key, "kind": $0["kind"].text ?? "", "note": $0["note"].text ?? ""] }); return }
        var t = TextTable(["date", "kind", "note"])
        for r in rows { t.add([r.key, r["kind"].text == "holiday" ? "holiday 假日" : "workday 调休上班", r["note"].text ?? ""]) }
        Console.out(rows.isEmpty ? "no holidays or workdays declared: Monday to Friday are the working days" : t.render())
    }
}
