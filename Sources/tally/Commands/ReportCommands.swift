import ArgumentParser
import Foundation
import TallyDepot
import TallyReconcile
import TallyReplica
import TallyRoutes

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Service KPIs, and weekly or monthly archives with a checksum manifest.",
        subcommands: [ReportKPI.self, ReportService.self, ReportArchive.self, ReportVerify.self])
}

struct ReportKPI: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpi", abstract: "Ticket accuracy, on-time rate, refusals by reason, cash variance per driver.",
        discussion: "Accuracy: deliveries whose cartons were all scanned and all on their own ticket (the rules require 100%). On time: delivered by promised_by.")
    @Option(help: "First business day.")
    var from: String
    @Option(help: "Last business day.")
    var to: String
    @Option(help: "table, csv or json.")
    var format: ReportFormat = .table
    @OptionGroup var settlement: SettlementOptions

    func execute() throws {
        let k = try settlement.reconciler().kpi(from: from, to: to)
        switch format {
        case .json:
            try Console.json(k)
        case .csv:
            var rows = [["device", "route", "days", "deliveries", "accuracy", "on_time", "refusals", "variance"]]
            for d in k.drivers { rows.append([d.device, d.route, String(d.days), String(d.deliveries), d.accuracy, d.onTimeRate, String(d.refusals), d.variance.description]) }
            FileHandle.standardOutput.write(Data(CSVText.bom + Array(CSVText.encode(rows).utf8)))
        case .table, .html:
            Console.out("\(k.from) … \(k.to): \(k.deliveries) deliveries, accuracy \(k.accuracy), on time \(k.onTimeRate)")
            var t = TextTable(["driver", "route", "days", "deliveries", "accuracy 准确率", "on time 准时率", "refusals", "variance"], rightAligned: [2, 3, 4, 5, 6, 7])
            for d in k.drivers { t.add([d.device, d.route, String(d.days), String(d.deliveries), d.accuracy, d.onTimeRate, String(d.refusals), d.variance.description]) }
            Console.out(t.render())
            if !k.refusalsByReason.isEmpty {
                Console.out("refusals by reason: " + k.refusalsByReason.sorted { $0.key < $1.key }
                    .map { "\(ReasonCode.named($0.key)?.chinese ?? $0.key) (\($0.key)) \($0.value)" }.joined(separator: ", "))
            }
        }
    }
}

struct ReportService: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "service", abstract: "Complaints by state and department, overdue ones, time to reply, satisfaction per window and driver, requests by handling mode.",
        discussion: "Windows: the share of visitors asked who were satisfied. Drivers: the share of deliveries without a complaint that was not judged invalid. The goal is 95%. Reads the depot (--data DIR) or a window's or accountant's replica (--replica PATH).")
    @Option(help: "First day.")
    var from: String
    @Option(help: "Last day.")
    var to: String
    @Option(help: "The depot's data folder.")
    var data: String?
    @Option(help: "A replica that holds the hall's book (a window's, an accountant's).")
    var replica: String?
    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (data == nil) != (replica == nil) else { throw ValidationError("give either --data DIR (on the depot) or --replica PATH") }
    }

    func execute() throws {
        let r: Replica = if let data {
            try DepotFolder(data).replica(schema: RouteSchema.current, options: .cli())
        } else {
            try Replica.open(at: replica ?? "", options: .cli())
        }
        let report = try ServiceReport.build(r, from: from, to: to, now: cliClock.nowMilliseconds())
        if json { try Console.json(report); return }
        Console.out(ServiceReportText.render(report))
    }
}

/// The service report as a manager reads it.
enum ServiceReportText {
    static func render(_ r: ServiceReport) -> String {
        var out = "service report \(r.from) … \(r.to)\n\ncomplaints 投诉: \(r.complaints)"
            + (r.major > 0 ? ", \(r.major) major (escalated)" : "") + (r.conflicts > 0 ? ", \(r.conflicts) with steps in conflict" : "")
        if r.complaints > 0 {
            out += "\n  by state: " + r.byStage.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "\n  by department: " + r.byDepartment.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "\n  replied: \(r.replies.replied), \(r.replies.inTime) within 2 working days"
                + (r.replies.medianWorkingDays.map { "; median \(String(format: "%.1f", $0)) working days" } ?? "")
                + (r.replies.medianHours.map { " (\(String(format: "%.1f", $0)) h)" } ?? "")
        }
        if !r.overdue.isEmpty {
            var t = TextTable(["OVERDUE 超期", "about", "department", "missing step", "due by", "recorded on"])
            for o in r.overdue { t.add([o.complaint, o.about, o.department ?? "unassigned", o.step, o.dueBy, o.recordedOn]) }
            out += "\n\n" + t.render()
        }
        var modes = TextTable(["requests 办件", "taken", "done", "open", "overdue", "cancelled", "median min to finish"], rightAligned: [1, 2, 3, 4, 5, 6])
        for m in r.modes {
            modes.add([RequestMode(rawValue: m.mode)?.label ?? m.mode, String(m.requests), String(m.done), String(m.open), String(m.overdue),
                       String(m.cancelled), m.medianMinutesToFinish.map(String.init) ?? "-"])
        }
        out += "\n\n" + modes.render()
        if !r.owners.isEmpty {
            out += "\nfirst-contact owners 首问负责: " + r.owners.map { "\($0.device) (\($0.window)) \($0.requests)\($0.open > 0 ? ", \($0.open) open" : "")" }.joined(separator: "; ")
        }
        var rates = TextTable(["satisfaction 满意率 (goal \(r.goal))", "unit", "asked", "satisfied", "neutral", "dissatisfied", "complaints", "rate", ""],
                              rightAligned: [2, 3, 4, 5, 6, 7])
        for w in r.windows { rates.add(["window \(w.device)", w.unit, String(w.asked), String(w.satisfied), String(w.neutral), String(w.dissatisfied), String(w.complaints), w.rate, w.asked == 0 ? "" : w.meetsGoal ? "ok" : "BELOW GOAL"]) }
        for d in r.drivers { rates.add(["driver \(d.device)", d.unit, String(d.asked), String(d.satisfied), "", String(d.dissatisfied), String(d.complaints), d.rate, d.asked == 0 ? "" : d.meetsGoal ? "ok" : "BELOW GOAL"]) }
        out += "\n\n" + rates.render()
        return out
    }
}

struct ReportArchive: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Bind a week's tickets or a month's route summaries into a folder with a SHA-256 manifest.",
        discussion: "A week (--week 2026-W48): tickets.csv with every ticket's outcome and proof hashes, each day's settlement HTML, route-summaries.csv. A month (--month 2026-11): route-summaries.csv. `tally report verify DIR` checks it later.")
    @Option(help: "An ISO week, like 2026-W48.")
    var week: String?
    @Option(help: "A month, like 2026-11.")
    var month: String?
    @Option(help: "The folder to create.")
    var out: String
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (week == nil) != (month == nil) else { throw ValidationError("give either --week or --month") }
    }

    func execute() throws {
        let files = try Archive.write(try settlement.reconciler(), period: week ?? month ?? "", weekly: week != nil, to: out,
                                      generatedAt: IsoTime.format(SystemWallClock().nowMilliseconds()))
        if json { try Console.json(ArchiveDone(period: week ?? month ?? "", folder: out, files: files)); return }
        Console.out("archived \(week ?? month ?? "") into \(out): \(files.joined(separator: ", "))\ncheck it any time with `tally report verify \(out)`")
    }
}

struct ReportVerify: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check an archive folder against its SHA-256 manifest.")
    @Argument(help: "The archive folder.")
    var folder: String
    @Flag(help: "Print the result as JSON (and exit 1 when it does not verify).")
    var json = false

    func execute() throws {
        let problems = try Archive.verify(folder)
        if json {
            try Console.json(ArchiveVerified(folder: folder, verified: problems.isEmpty, problems: problems))
            if !problems.isEmpty { throw ExitCode(1) }
            return
        }
        if problems.isEmpty {
            Console.out("\(folder): every file matches its SHA-256")
        } else {
            Console.err("tally: \(folder) does not verify: " + problems.joined(separator: "; "))
            throw ExitCode(1)
        }
    }
}

/// What `tally report archive --json` prints.
struct ArchiveDone: Encodable {
    var period: String
    var folder: String
    var files: [String]
}

/// What `tally report verify --json` prints.
struct ArchiveVerified: Encodable {
    var folder: String
    var verified: Bool
    var problems: [String]
}
