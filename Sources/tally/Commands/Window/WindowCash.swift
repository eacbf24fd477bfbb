import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes
import TallySync

struct WindowFeeCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "fee", abstract: "Take a fee in cash: crate_deposit (周转箱押金), card (客户卡工本费) or redelivery (二次配送费).",
        discussion: "A fee is settled like a van's cash: deposit it with `tally window deposit`, and `tally reconcile` covers the window.")
    @Argument(help: "The fee: crate_deposit, card or redelivery.")
    var fee: String
    @Argument(help: "The amount, e.g. 50.00.")
    var amount: String
    @Option(help: "The request it was paid for.")
    var request: String?
    @Option(help: "Who paid.")
    var payer: String?
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let money = try moneyArgument(amount)
        let id = try window.book().fee(fee, amount: money, request: request, payer: payer)
        if window.json { try Console.json(["event": id]); return }
        Console.out("took \(money) for \(WindowFee(rawValue: fee)?.chinese ?? fee), recorded as \(id)")
    }
}

struct WindowDeposit: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "deposit", abstract: "Record cash paid in at the bank.")
    @Argument(help: "The amount.")
    var amount: String
    @Option(help: "The bank's reference on the slip.")
    var bankRef: String
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let money = try moneyArgument(amount)
        let id = try window.book().deposit(money, bankRef: bankRef)
        if window.json { try Console.json(["event": id]); return }
        Console.out("deposit \(money) (\(bankRef)) recorded as \(id)")
    }
}

struct WindowVoid: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "void", abstract: "Cancel today's fee or deposit recorded by mistake, with the reason.")
    @Argument(help: "The entry id (`tally window events` lists them).")
    var event: String
    @Option(help: "Why.")
    var reason: String
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let id = try window.book().void(event, reason: reason)
        if window.json { try Console.json(["event": id]); return }
        Console.out("voided \(event), recorded as \(id)")
    }
}

struct WindowEvents: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Today's ledger entries of this window.")
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let events = try window.book().events()
        if window.json { try Console.json(events); return }
        var t = TextTable(["at", "entry", "kind", "amount", "detail"], rightAligned: [3])
        for e in events {
            let what = [e.product.flatMap { WindowFee(rawValue: $0)?.chinese }, e.ref, e.note, e.voidedBy.map { "voided by \($0)" }].compactMap { $0 }
            t.add([String(e.at.dropFirst(11).prefix(8)), e.id, EventKind(rawValue: e.kind)?.label ?? e.kind, e.amount.description, what.joined(separator: ", ")])
        }
        Console.out(events.isEmpty ? "nothing recorded today" : t.render())
    }
}

struct WindowSummary: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "The day so far: a trial of the day-close summary; records nothing.")
    @OptionGroup var window: WindowOptions

    func execute() throws {
        let s = try window.book().daySummary()
        if window.json { try Console.json(s); return }
        Console.out(WindowSummaryText.render(s))
    }
}

struct WindowCloseDay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-day", abstract: "Close the day: refused while anything is unsynced; records and sends the day summary.",
        discussion: """
            Run `tally sync` first. Cash still on hand must be deposited first, carried to the next day on purpose \
            (--carry AMOUNT --reason TEXT), or declared missing (--missing AMOUNT --reason TEXT). After closing, nothing \
            more is recorded for the day but a late deposit of that cash.
            """)
    @Option(help: "An earlier day left unclosed (default: today).")
    var date: String?
    @OptionGroup var cash: CashCloseOptions
    @OptionGroup var window: WindowOptions

    func run() async throws {
        try await DayClose.run(json: window.json, render: WindowSummaryText.render, day: \.day) {
            let (carried, lost) = try cash.amounts()
            let book = try window.book()
            return (book.replica, { try book.closeDay(date, unsynced: $0, carry: carried, missing: lost, reason: cash.reason) })
        }
    }
}

/// A window's day summary as a clerk and an accountant read it.
enum WindowSummaryText {
    static func render(_ s: WindowDaySummary) -> String {
        var t = TextTable(["", ""], rightAligned: [1])
        t.add(["numbers taken 取号", String(s.taken)])
        for mode in RequestMode.allCases { t.add(["finished \(mode.label)", String(s.finished[mode.rawValue] ?? 0)]) }
        t.add(["still open 未办结", String(s.open.count)])
        t.add(["overdue 超期", String(s.overdue.count)])
        t.add(["sign-offs given 会签", String(s.signOffs)])
        t.add(["satisfied 满意 / neutral 一般 / dissatisfied 不满意", "\(s.satisfied) / \(s.neutral) / \(s.dissatisfied)"])
        for f in s.fees { t.add(["\(WindowFee(rawValue: f.fee)?.chinese ?? f.fee) × \(f.count)", f.amount.description]) }
        t.add(["cash taken 实收现金", s.cashCollected.description])
        t.add(["deposited 已存银行", s.cashDeposited.description])
        t.add(["cash on hand 手头现金", s.cashOnHand.description])
        var out = "day \(s.day), window \(s.window), \(s.device)\n" + t.render(header: false)
        if !s.explained.isEmpty { out += "\nexplained 已说明:\n" + s.explained.map { "  - \($0)" }.joined(separator: "\n") }
        out += s.unexplained.isEmpty ? "\nnothing unexplained 无未说明差异" : "\nUNEXPLAINED 未说明:\n" + s.unexplained.map { "  - \($0)" }.joined(separator: "\n")
        return out
    }
}
