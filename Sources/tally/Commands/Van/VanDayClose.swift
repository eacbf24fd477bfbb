import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes
import TallySync

struct VanSummary: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "The day so far: a trial of the day-close summary; records nothing.")
    @OptionGroup var van: VanOptions

    func execute() throws {
        let s = try van.book().daySummary()
        if van.json { try Console.json(s); return }
        Console.out(DaySummaryText.render(s))
    }
}

struct VanCloseDay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-day", abstract: "Close the day: refused while anything is unsynced; records and sends the day summary.",
        discussion: """
            Run `tally sync` first. Cash still on hand must be deposited first, or carried to the next day on purpose \
            (--carry AMOUNT --reason TEXT: it opens the next day's float), or declared missing (--missing AMOUNT --reason TEXT: \
            the accountant sees it short); the two may be combined, adding up to the cash on hand. After closing, nothing more \
            is recorded for the day but a late deposit of that cash; the summary goes to the depot at once when it can be \
            reached, else with the next sync.
            """)
    @OptionGroup var van: VanOptions
    @OptionGroup var cash: CashCloseOptions

    func run() async throws {
        try await DayClose.run(json: van.json, render: DaySummaryText.render, day: \.day) {
            let (carried, lost) = try cash.amounts()
            let book = try van.book()
            return (book.replica, { try book.closeDay(unsynced: $0, carry: carried, missing: lost, reason: cash.reason) })
        }
    }
}

/// How the cash still on hand leaves a closed day: `--carry`, `--missing`, `--reason`. A van's
/// and a window's close take the same options.
struct CashCloseOptions: ParsableArguments {
    @Option(help: "Cash carried to the next day on purpose, like 200.00.")
    var carry: String?
    @Option(help: "Cash declared missing, like 50.00.")
    var missing: String?
    @Option(help: "Why the cash is carried over or missing.")
    var reason: String?

    func amounts() throws -> (carry: Money?, missing: Money?) {
        (try carry.map(moneyArgument), try missing.map(moneyArgument))
    }
}

/// What `close-day --json` prints.
struct ClosedDay<Summary: Encodable>: Encodable {
    var event: String
    var summary: Summary
    var sentToDepot: Bool
}

/// Closing a device's day, shared by `tally van close-day` and `tally window close-day`: the
/// book refuses while anything is unsynced; once closed, the summary is sent at once when the
/// depot answers, else it waits for the next sync.
enum DayClose {
    static func run<Summary: Encodable>(json: Bool, render: (Summary) -> String, day: KeyPath<Summary, String>,
                                        open: () throws -> (Replica, (Unsynced) throws -> (event: String, summary: Summary))) async throws {
        do {
            let (replica, close) = try open()
            let client = try SyncClient(replica: replica, logger: cliLogger)
            let (id, s) = try close(Unsynced(changes: try client.pending(), blobs: try client.pendingBlobs()))
            var sent = false
            do {
                _ = try await client.sync()
                sent = true
            } catch {
                // Closed all the same: the summary waits on the device for the next sync.
            }
            if json {
                try Console.json(ClosedDay(event: id, summary: s, sentToDepot: sent))
                return
            }
            Console.out(render(s))
            Console.out("\nday \(s[keyPath: day]) closed, recorded as \(id); "
                + (sent ? "the summary is at the depot" : "the depot is unreachable, so the summary will go with the next `tally sync`"))
        } catch let e as SyncError {
            Console.err("tally: \(e.description)")
            throw ExitCode(1)
        } catch {
            throw fail(error)
        }
    }
}

/// The day summary as a driver and an accountant read it.
enum DaySummaryText {
    static func render(_ s: DaySummary) -> String {
        var t = TextTable(["", ""], rightAligned: [1])
        t.add(["tickets 票数", String(s.tickets)])
        t.add(["delivered 已交付", String(s.delivered)])
        t.add(["refused 拒收", String(s.refused)])
        t.add(["open 未处理", String(s.open.count)])
        t.add(["returns 退货", "\(s.returns) (\(s.cartonsReturned) cartons)"])
        t.add(["cartons scanned 扫码", "\(s.cartonsScanned)/\(s.cartonsExpected)"])
        t.add(["cartons short 缺货", String(s.cartonsShort)])
        t.add(["value delivered 交付金额", s.valueDelivered.description])
        t.add(["credited 退货冲减", s.credited.description])
        t.add(["cash due 应收现金", s.cashDue.description])
        t.add(["cash collected 实收现金", s.cashCollected.description])
        t.add(["cash paid back 退款", s.cashPaidBack.description])
        t.add(["deposited 已存银行", s.cashDeposited.description])
        if let m = s.cashCarriedIn { t.add(["brought from the day before 上日结转", m.description]) }
        t.add(["cash on hand 手头现金", s.cashOnHand.description])
        if let m = s.cashCarriedOver { t.add(["carried over 结转次日", m.description]) }
        if let m = s.cashMissing { t.add(["declared missing 申报短缺", m.description]) }
        t.add(["vehicle check 车检", s.vehicleCheck ?? "none"])
        t.add(["odometer 里程", s.odometerStart.map { "\($0)–\(s.odometerEnd ?? $0) km" } ?? "none"])
        var out = "day \(s.day), route \(s.route), \(s.device)\n" + t.render(header: false)
        if !s.explained.isEmpty { out += "\nexplained 已说明:\n" + s.explained.map { "  - \($0)" }.joined(separator: "\n") }
        out += s.unexplained.isEmpty ? "\nnothing unexplained 无未说明差异" : "\nUNEXPLAINED 未说明:\n" + s.unexplained.map { "  - \($0)" }.joined(separator: "\n")
        return out
    }
}
