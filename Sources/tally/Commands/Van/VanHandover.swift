import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct VanDeliver: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Record a handover: cartons checked, goods and money settled, customer's signature.",
        discussion: """
            Every carton must be scanned or declared short. A cash ticket needs --cash equal to the amount due \
            less shortages, or --partial --reason TEXT for less. The entry binds the ticket's content, the amount \
            and the signature image's hash; `tally van receipt TICKET --verify` checks them later.
            """)
    @Argument(help: "The ticket.")
    var ticket: String
    @Option(help: "The customer's signature image (PNG or JPEG from the signature pad).")
    var signature: String
    @Option(help: "The name of the person who signed.")
    var signer: String?
    @Option(help: "Cash collected, like 450.00 (cash tickets).", transform: moneyArgument)
    var cash: Money?
    @Option(help: "Cartons not handed over, PRODUCT=QTY; repeat for several products.")
    var short: [ProductCount] = []
    @Option(help: "Paid at the door by WeChat or Alipay QR code, like 200.00 (needs --qr-ref).", transform: moneyArgument)
    var qr: Money?
    @Option(name: .customLong("qr-ref"), help: "The QR payment's reference, from the shop's phone.")
    var qrRef: String?
    @Option(name: .customLong("on-account"), help: "Put on the shop's account (a credit customer), like 500.00.", transform: moneyArgument)
    var onAccount: Money?
    @Flag(help: "Less than due was paid (needs --reason): the rest is owed by the shop, collectable later.")
    var partial = false
    @Option(help: "Why less was paid.")
    var reason: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        if partial && (reason ?? "").isEmpty { throw ValidationError("--partial needs --reason TEXT saying why less cash was collected") }
        if !partial && reason != nil { throw ValidationError("--reason goes with --partial") }
        let book = try van.book()
        let r = try book.deliver(DeliveryRequest(ticket: ticket, signature: try readImage(signature, what: "signature"), signer: signer, cash: cash,
                                                 short: try ProductCount.table(short), partialReason: partial ? reason : nil,
                                                 qr: qr, qrRef: qrRef, onAccount: onAccount))
        if van.json { try Console.json(r); return }
        let h = r.handover
        let shortText = h.lines.filter { $0.short > 0 }.map { "\($0.short) × \($0.name) short" }
        let cartons = h.lines.reduce(0) { $0 + $1.delivered }
        Console.out("delivered \(h.ticket) to \(h.customerName): \(cartons) carton\(cartons == 1 ? "" : "s"), value \(h.value)"
            + (h.payment == "cash" ? ", cash \(h.cash) collected" : ", paid electronically")
            + (shortText.isEmpty ? "" : "; " + shortText.joined(separator: ", "))
            + (h.qr.map { ", \($0) by QR (\(h.qrRef ?? ""))" } ?? "") + (h.onAccount.map { ", \($0) on account" } ?? "")
            + (h.partialReason.map { "; part payment: \($0)" } ?? "") + (h.owed.map { "; \($0) owed by the shop" } ?? "")
            + (h.late ? "; LATE (promised by \(h.promisedBy ?? "?"))" : "")
            + "\nrecorded as \(r.event), handover hash \(r.hash.prefix(16))…")
    }
}

struct VanRefuse: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "refuse", abstract: "Record a refusal at the shop, with a reason code (`tally reasons` lists them).")
    @Argument(help: "The ticket.")
    var ticket: String
    @Option(help: "The reason code.")
    var reason: String
    @Option(help: "What happened, in a few words.")
    var note: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let id = try van.book().refuse(ticket, reason: reason, note: note)
        if van.json { try Console.json(["event": id]); return }
        Console.out("ticket \(ticket) refused (\(ReasonCode.named(reason)?.chinese ?? reason)); recorded as \(id). "
            + "Bring the goods back to the depot; "
            + "if the shop takes them after all today, take the refusal back with `tally van void \(id) --reason TEXT` and deliver")
    }
}

struct VanReturn: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "return", abstract: "Record goods taken back after delivery; credited, never more than was delivered.")
    @Argument(help: "The ticket the goods were delivered on.")
    var ticket: String
    @Option(help: "The product code.")
    var product: String
    @Option(help: "Cartons taken back.")
    var qty: Int
    @Option(help: "The reason code (`tally reasons`).")
    var reason: String
    @Option(help: "What happened, in a few words.")
    var note: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let e = try van.book().returnGoods(ticket, product: product, qty: qty, reason: reason, note: note)
        if van.json { try Console.json(e); return }
        Console.out("\(qty) × \(product) taken back on \(ticket), credit \(e.due)"
            + (e.amount > .zero ? "; pay \(e.amount) back in cash" : "") + "; recorded as \(e.id)")
    }
}

struct VanVoid: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "void", abstract: "Cancel an entry with a compensating entry; nothing is overwritten.",
        discussion: "`tally van events` lists today's entries and their ids. Refusals and day closes are final.")
    @Argument(help: "The entry's id.")
    var event: String
    @Option(help: "Why it is voided.")
    var reason: String
    @OptionGroup var van: VanOptions

    func execute() throws {
        let id = try van.book().void(event, reason: reason)
        if van.json { try Console.json(["event": id, "voided": event]); return }
        Console.out("\(event) voided; recorded as \(id)")
    }
}

struct VanReceipt: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt", abstract: "The proof of delivery of a ticket; --verify checks it still holds.",
        discussion: "With --verify the exit status is 0 only when every check passes.")
    @Argument(help: "The ticket.")
    var ticket: String
    @Flag(help: "Check the handover hash, the amounts, the ticket's content, the signature image and the device's signature of the entry.")
    var verify = false
    @Option(help: "The delivering device's public key (hex), when it is not this device (`tally depot devices --json` lists them).")
    var publicKey: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let r = try van.book().receipt(ticket, verify: verify, publicKey: publicKey)
        if van.json {
            try Console.json(r)
        } else {
            let h = r.handover
            Console.out("receipt for \(h.ticket), \(h.day), route \(h.route)\nshop: \(h.customerName) (\(h.customer))")
            var t = TextTable(["product", "name", "ordered", "delivered", "short", "unit price"], rightAligned: [2, 3, 4, 5])
            for l in h.lines { t.add([l.product, l.name, String(l.ordered), String(l.delivered), String(l.short), l.unitPrice.description]) }
            Console.out(t.render())
            Console.out("""
                value: \(h.value)   payment: \(h.payment)   cash collected: \(h.cash)\(h.partialReason.map { " (part payment: \($0))" } ?? "")\
                \(h.qr.map { "   by QR: \($0) (\(h.qrRef ?? ""))" } ?? "")\(h.onAccount.map { "   on account: \($0)" } ?? "")\
                \(h.owed.map { "   owed by the shop: \($0)" } ?? "")
                signed by: \(h.signer ?? "(name not given)") at \(HumanTime.local(h.at))\(h.late ? " (late)" : "")
                signature sha256: \(h.signature)
                device: \(h.device)   entry: \(r.event)
                handover sha256: \(r.hash)
                """)
            for e in r.returns { Console.out("returned since: \(e.qty ?? 0) × \(e.product ?? "") (\(e.reason ?? "")), credit \(e.due), \(e.id)") }
            for c in r.checks ?? [] { Console.out("\(c.ok ? "ok  " : "FAIL") \(c.check): \(c.detail)") }
            if let v = r.verified { Console.out(v ? "verified" : "NOT verified") }
        }
        if r.verified == false { throw ExitCode(1) }
    }
}

struct VanBalances: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "balances", abstract: "What shops of this route still owe, ticket by ticket.")
    @OptionGroup var van: VanOptions

    func execute() throws {
        let open = try van.book().balances()
        if van.json { try Console.json(open); return }
        guard !open.isEmpty else { Console.out("no shop of this route owes anything, as far as this handheld knows"); return }
        var t = TextTable(["ticket", "day", "shop", "opened", "paid", "owed", "why"], rightAligned: [3, 4, 5])
        for b in open { t.add([b.ticket, b.day, b.customerName, b.opened.description, b.paid.description, b.balance.description, b.why]) }
        // What each shop owes in all, for the driver at its door.
        var shops = TextTable(["shop", "code", "tickets", "owed in all"], rightAligned: [2, 3])
        for (code, list) in Dictionary(grouping: open, by: \.customer).sorted(by: { $0.key < $1.key }) {
            shops.add([list[0].customerName, code, String(list.count), list.reduce(Money.zero) { $0 + $1.balance }.description])
        }
        Console.out(t.render() + "\n\n" + shops.render())
    }
}

struct VanCollect: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect", abstract: "A shop pays what it owed on an earlier ticket, in cash and/or by QR code.",
        discussion: "Never more than the shop owes on that ticket (`tally van balances`). Cash taken counts in today's cash on hand.")
    @Argument(help: "The earlier ticket the shop pays for.")
    var ticket: String
    @Option(help: "Cash taken, like 390.00.", transform: moneyArgument)
    var cash: Money?
    @Option(help: "Paid by WeChat or Alipay QR code, like 390.00 (needs --qr-ref).", transform: moneyArgument)
    var qr: Money?
    @Option(name: .customLong("qr-ref"), help: "The QR payment's reference.")
    var qrRef: String?
    @Option(help: "A note.")
    var note: String?
    @OptionGroup var van: VanOptions

    func execute() throws {
        let book = try van.book()
        let id = try book.collect(ticket, cash: cash, qr: qr, qrRef: qrRef, note: note)
        let left = try book.balances().first { $0.ticket == ticket }?.balance ?? .zero
        if van.json { try Console.json(["event": id, "still_owed": left.description]); return }
        Console.out("\(((cash ?? .zero) + (qr ?? .zero))) paid on \(ticket), recorded as \(id); "
            + (left == .zero ? "nothing more is owed on it" : "\(left) still owed"))
    }
}
