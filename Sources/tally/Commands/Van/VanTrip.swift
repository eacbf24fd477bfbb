import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct VanLoadOut: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-out", abstract: "Record the count of what was loaded before leaving.",
        discussion: """
            Name every product on board with --count, or add --rest-match to say the products not named match the \
            manifest. A count that differs is shown and not recorded until you add --confirm; the difference then \
            appears in the day summary.
            """)
    @Option(help: "Cartons loaded of a product, PRODUCT=QTY; repeat for several products.")
    var count: [ProductCount] = []
    @Flag(help: "The products not named with --count match the manifest.")
    var restMatch = false
    @Flag(help: "Record the count although it differs from the manifest (the difference is shown first without it).")
    var confirm = false
    @OptionGroup var van: VanOptions

    func execute() throws {
        let r = try van.book().loadOut(counts: try ProductCount.table(count), restMatch: restMatch, confirm: confirm)
        if van.json { try Console.json(r); return }
        Console.out(loadTable(r.counts, expected: "manifest", counted: "loaded"))
        Console.out(r.differences.isEmpty ? "loaded as the manifest says; recorded as \(r.event)"
                                          : "\(r.differences.count) difference\(r.differences.count == 1 ? "" : "s") from the manifest recorded as \(r.event)")
    }
}

struct VanVehicleCheck: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "vehicle-check", abstract: "Record the pre-trip vehicle check.")
    @Flag(help: "The vehicle is fit to leave.")
    var ok = false
    @Option(help: "What is wrong with the vehicle.")
    var fault: String?
    @OptionGroup var van: VanOptions

    func validate() throws {
        guard ok != (fault != nil) else { throw ValidationError("give either --ok or --fault TEXT") }
    }

    func execute() throws {
        let id = try van.book().vehicleCheck(fault: fault)
        if van.json { try Console.json(["event": id]); return }
        Console.out(fault.map { "vehicle fault recorded (\($0)) as \(id); tell the depot before leaving" } ?? "vehicle check ok, recorded as \(id)")
    }
}

struct VanLog: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Add a driving-log entry: the odometer reading and a note.")
    @Option(help: "The odometer reading in whole kilometres.")
    var odometer: Int
    @Option(help: "A note (where, why).")
    var note: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let id = try van.book().logOdometer(odometer, note: note)
        if van.json { try Console.json(["event": id]); return }
        Console.out("odometer \(odometer) km logged as \(id)")
    }
}

struct VanDeposit: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "deposit", abstract: "Record cash paid in at the bank.")
    @Argument(help: "The amount paid in, like 1250.50.", transform: moneyArgument)
    var amount: Money
    @Option(name: .customLong("bank-ref"), help: "The bank's reference on the deposit slip.")
    var bankRef: String
    @Option(help: "A photo of the deposit slip.")
    var slip: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let image = try slip.map { try readImage($0, what: "deposit slip") }
        let book = try van.book()
        let id = try book.deposit(amount, bankRef: bankRef, slip: image)
        let late = try book.replica.row("events", key: id)?["reason"].text == CashPosition.afterClose
        if van.json { try Console.json(DepositDone(event: id, afterClose: late)); return }
        Console.out("deposit of \(amount) (bank ref \(bankRef)) recorded as \(id)"
            + (late ? "; the day was already closed, so the accountant reviews it as a deposit after the close" : ""))
    }
}

struct VanEvents: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Today's entries with their ids (what `tally van void` takes).")
    @OptionGroup var van: VanOptions

    func execute() throws {
        let events = try van.book().events()
        if van.json { try Console.json(events); return }
        var t = TextTable(["time", "entry", "kind", "ticket", "amount", "detail"], rightAligned: [4])
        for e in events {
            let detail = [e.product.map { "\($0)\(e.qty.map { " × \($0)" } ?? "")" }, e.reason, e.note, e.voidedBy.map { "VOIDED by \($0)" },
                          e.kind == "scan" ? e.ref : nil].compactMap { $0 }.joined(separator: "; ")
            t.add([String(e.at.dropFirst(11).prefix(5)), e.id, EventKind(rawValue: e.kind)?.label ?? e.kind, e.ticket ?? "",
                   e.amount == .zero ? "" : e.amount.description, detail])
        }
        Console.out(events.isEmpty ? "nothing recorded today yet" : t.render())
    }
}

struct VanLoadIn: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-in", abstract: "Record the count of what came back to the depot at day end.",
        discussion: """
            Expected per product: loaded at load-out, less handed over, plus taken back. Name every product with \
            --count, or add --rest-match to say the products not named came back as expected. A count that differs is \
            shown and not recorded until you add --confirm; the difference then appears in the day summary and the settlement.
            """)
    @Option(help: "Cartons brought back of a product, PRODUCT=QTY; repeat for several products.")
    var count: [ProductCount] = []
    @Flag(help: "The products not named with --count came back as expected.")
    var restMatch = false
    @Flag(help: "Record the count although it differs from what was expected (the difference is shown first without it).")
    var confirm = false
    @OptionGroup var van: VanOptions

    func execute() throws {
        let r = try van.book().loadIn(counts: try ProductCount.table(count), restMatch: restMatch, confirm: confirm)
        if van.json { try Console.json(r); return }
        Console.out(loadTable(r.counts, expected: "expected", counted: "back"))
        Console.out(r.differences.isEmpty ? "everything came back as expected; recorded as \(r.event)"
                                          : "\(r.differences.count) difference\(r.differences.count == 1 ? "" : "s") recorded as \(r.event)")
    }
}

/// A count per product against what was expected, differences signed.
func loadTable(_ counts: [LoadCount], expected: String, counted: String) -> String {
    var t = TextTable(["product", "name", expected, counted, "difference"], rightAligned: [2, 3, 4])
    for c in counts {
        t.add([c.product, c.name, String(c.expected), String(c.counted), c.difference == 0 ? "" : (c.difference > 0 ? "+" : "") + String(c.difference)])
    }
    return t.render()
}

/// What `tally van deposit --json` prints.
struct DepositDone: Encodable {
    var event: String
    /// Made after the day was closed (of cash carried over or declared missing).
    var afterClose: Bool
    enum CodingKeys: String, CodingKey {
        case event
        case afterClose = "after_close"
    }
}
