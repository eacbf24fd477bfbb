import ArgumentParser
import Foundation
import TallyReconcile
import TallyReplica
import TallyRoutes

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Service KPIs, and weekly or monthly archives with a checksum manifest.",
        subcommands: [ReportKPI.self, ReportArchive.self, ReportVerify.self])
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

    func validate() throws {
        guard (week == nil) != (month == nil) else { throw ValidationError("give either --week or --month") }
    }

    func execute() throws {
        let files = try Archive.write(try settlement.reconciler(), period: week ?? month ?? "", weekly: week != nil, to: out,
                                      generatedAt: IsoTime.format(SystemWallClock().nowMilliseconds()))
        Console.out("archived \(week ?? month ?? "") into \(out): \(files.joined(separator: ", "))\ncheck it any time with `tally report verify \(out)`")
    }
}

struct ReportVerify: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check an archive folder against its SHA-256 manifest.")
    @Argument(help: "The archive folder.")
    var folder: String

    func execute() throws {
        let problems = try Archive.verify(folder)
        if problems.isEmpty {
            Console.out("\(folder): every file matches its SHA-256")
        } else {
            Console.err("tally: \(folder) does not verify: " + problems.joined(separator: "; "))
            throw ExitCode(1)
        }
    }
}
