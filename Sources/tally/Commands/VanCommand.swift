import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct VanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "van",
        abstract: "A van's day, offline: tickets, scans (more commands arrive with the route-operations work).",
        subcommands: [VanTickets.self, VanShow.self, VanScan.self])
}

/// The van's book, from `--replica`.
struct VanOptions: ParsableArguments {
    @OptionGroup var replica: ReplicaPathOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func book() throws -> VanBook {
        try VanBook.joined(try Replica.open(at: replica.path, options: .cli()))
    }
}

struct VanTickets: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "tickets", abstract: "Today's tickets in stop order.")
    @OptionGroup var van: VanOptions

    func execute() throws {
        let tickets = try van.book().tickets()
        if van.json { try Console.json(tickets); return }
        var t = TextTable(["stop", "ticket", "shop", "payment", "due", "status", "cartons"], rightAligned: [0, 4, 6])
        for v in tickets {
            t.add([String(v.stop), v.ticket, v.customerName, v.payment == "cash" ? "现金 cash" : "电子 electronic", v.amountDue, v.status,
                   "\(v.cartonsScanned)/\(v.cartonsExpected)"])
        }
        Console.out(tickets.isEmpty ? "no tickets for this route yet; sync with the depot to load today's manifest" : t.render())
    }
}

struct VanShow: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One ticket: shop, lines, cartons scanned.")
    @Argument(help: "The ticket.")
    var ticket: String
    @OptionGroup var van: VanOptions

    struct Shown: Encodable { var ticket: TicketView; var lines: [LineView] }

    func execute() throws {
        let (v, lines) = try van.book().show(ticket)
        if van.json { try Console.json(Shown(ticket: v, lines: lines)); return }
        Console.out("\(v.ticket)  stop \(v.stop)  \(v.customerName) (\(v.customer))  \(v.payment)  due \(v.amountDue)  \(v.status)")
        var t = TextTable(["product", "name", "qty", "unit price", "scanned"], rightAligned: [2, 3, 4])
        for l in lines { t.add([l.product, l.name, String(l.quantity), l.unitPrice, "\(l.scanned)/\(l.quantity)"]) }
        Console.out(t.render())
    }
}

struct VanScan: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Check carton codes against a ticket and record them.",
        discussion: "A carton of another ticket or an unknown code refuses the whole scan and records nothing; a code already scanned is reported, not counted twice.")
    @Argument(help: "The ticket.")
    var ticket: String
    @Argument(help: "The carton codes.")
    var codes: [String]
    @OptionGroup var van: VanOptions

    func execute() throws {
        let outcomes: [ScanOutcome]
        do {
            outcomes = try van.book().scan(ticket, codes: codes)
        } catch VanError.scanRefused(let refused) {
            for o in refused { Console.err("tally: carton \(o.code) \(o.detail)") }
            Console.err("tally: nothing was recorded for ticket \(ticket)")
            throw ExitCode(1)
        }
        if van.json { try Console.json(outcomes); return }
        for o in outcomes { Console.out("\(o.code)  \(o.result == .accepted ? "accepted" : o.detail)") }
    }
}
