import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct VanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "van",
        abstract: "A van's working day, offline: load-out, scans, deliveries, refusals, returns, cash, day close.",
        discussion: "Every command works without a network and records on the van's own replica; `tally sync` carries it to the depot. A refused command prints one line saying why, exits 1 and records nothing.",
        subcommands: [VanTickets.self, VanShow.self, VanLoadOut.self, VanLoadIn.self, VanVehicleCheck.self, VanLog.self, VanScan.self, VanDeliver.self,
                      VanRefuse.self, VanReturn.self, VanVoid.self, VanDeposit.self, VanReceipt.self, VanEvents.self, VanSummary.self,
                      VanCloseDay.self, VanBalances.self, VanCollect.self])
}

/// The van's book, from `--replica`.
struct VanOptions: ParsableArguments {
    @OptionGroup var replica: ReplicaPathOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func book() throws -> VanBook {
        try VanBook.joined(try Replica.open(at: replica.path, options: .cli()), clock: cliClock)
    }
}

/// `PRODUCT=QTY`, as `--count` and `--short` take it.
struct ProductCount: ExpressibleByArgument {
    var product: String
    var qty: Int

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, let n = Int(parts[1]) else { return nil }
        product = parts[0]
        qty = n
    }

    static func table(_ counts: [ProductCount]) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for c in counts {
            guard out[c.product] == nil else { throw ValidationError("\(c.product) is given twice; give each product once") }
            out[c.product] = c.qty
        }
        return out
    }
}

/// Parses an amount argument, refusing it with Money's own reason ("more than two decimals"...).
func moneyArgument(_ text: String) throws -> Money {
    do { return try Money(parsing: text) } catch { throw ValidationError(error.description) }
}

/// Reads an image a command stores as a blob.
func readImage(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw VanError.refused("cannot read the \(what) image \(path); check the path")
    }
    return Array(data)
}

struct VanTickets: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "tickets", abstract: "Today's tickets in stop order: status, amount due, payment, cartons scanned.")
    @OptionGroup var van: VanOptions

    func execute() throws {
        let book = try van.book()
        let tickets = try book.tickets()
        if van.json { try Console.json(tickets); return }
        var t = TextTable(["stop", "ticket", "shop", "payment", "due", "status", "cartons"], rightAligned: [0, 4, 6])
        for v in tickets {
            t.add([String(v.stop), v.ticket, v.customerName, v.payment == "cash" ? "现金 cash" : "电子 electronic", v.amountDue.description, v.status,
                   "\(v.cartonsScanned)/\(v.cartonsExpected)"])
        }
        let closed = try book.workingDay()?.closed == true ? " (closed 已日结)" : ""
        Console.out(tickets.isEmpty ? "no tickets for this route yet; sync with the depot to load today's manifest" : "\(tickets[0].day)\(closed)\n" + t.render())
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
        Console.out("\(v.ticket)  stop \(v.stop)  \(v.customerName) (\(v.customer))  \(v.payment)  due \(v.amountDue)  \(v.status)"
            + (v.promisedBy.map { "  promised by \($0)" } ?? ""))
        var t = TextTable(["product", "name", "qty", "unit price", "scanned"], rightAligned: [2, 3, 4])
        for l in lines { t.add([l.product, l.name, String(l.quantity), l.unitPrice.description, "\(l.scanned)/\(l.quantity)"]) }
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
        let outcomes = try van.book().scan(ticket, codes: codes)
        if van.json { try Console.json(outcomes); return }
        for o in outcomes { Console.out("\(o.code)  \(o.result == .accepted ? "accepted" : o.detail)") }
    }
}
