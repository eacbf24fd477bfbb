import Foundation
import TallyReplica

/// What a shop still owes on one ticket: opened at the handover (the unpaid rest of a part
/// payment, or what went on its account), less what it paid since, at a later stop.
public struct OpenBalance: Sendable, Encodable, Equatable {
    public var ticket: String
    public var day: String
    public var customer: String
    public var customerName: String
    public var opened: Money
    public var paid: Money
    public var balance: Money { opened - paid }
    /// Why it was opened: the part payment's reason, or "on account".
    public var why: String

    enum CodingKeys: String, CodingKey { case ticket, day, customer, customerName = "customer_name", opened, paid, balance, why }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ticket, forKey: .ticket)
        try c.encode(day, forKey: .day)
        try c.encode(customer, forKey: .customer)
        try c.encode(customerName, forKey: .customerName)
        try c.encode(opened, forKey: .opened)
        try c.encode(paid, forKey: .paid)
        try c.encode(balance, forKey: .balance)
        try c.encode(why, forKey: .why)
    }
}

/// Balances from a set of ledger entries (voids applied): the deliveries that opened them and
/// the collections that paid them. The same rule on the van and at the depot.
public enum Receivables {
    public static func balances(_ ledger: DayLedger) -> [OpenBalance] {
        var out: [String: OpenBalance] = [:]
        // An entry is counted once, however often it arrived (a ledger entry is keyed by its id).
        var seen = Set<String>()
        for d in ledger.active(.deliver) where d.amount < d.due {
            guard let h = Handover.decode(d.detail), h.opened > .zero else { continue }
            let why = [h.owed.map { _ in h.partialReason ?? "part payment" }, h.onAccount.map { _ in "on account" }].compactMap { $0 }
            out[h.ticket] = OpenBalance(ticket: h.ticket, day: h.day, customer: h.customer, customerName: h.customerName,
                                        opened: h.opened, paid: .zero, why: why.joined(separator: "; "))
        }
        for c in ledger.active(.collect) where seen.insert(c.id).inserted {
            if let t = c.ticket { out[t]?.paid += c.due }
        }
        return out.values.sorted { ($0.day, $0.ticket) < ($1.day, $1.ticket) }
    }
}

extension VanBook {
    /// The route's open balances this handheld knows of, oldest first.
    public func balances() throws -> [OpenBalance] {
        let rows = try replica.rows("events", where: "kind", is: .text(EventKind.deliver.rawValue))
            + replica.rows("events", where: "kind", is: .text(EventKind.collect.rawValue))
            + replica.rows("events", where: "kind", is: .text(EventKind.void.rawValue))
        return Receivables.balances(DayLedger(rows.filter { $0["route"].text == route }, ordered: false)).filter { $0.balance != .zero }
    }

    /// Records a shop paying what it owes on an earlier ticket, in cash and/or by QR code; never
    /// more than its balance on that ticket. Returns the entry id.
    @discardableResult
    public func collect(_ ticket: String, cash: Money?, qr: Money? = nil, qrRef: String? = nil, note: String? = nil) throws -> String {
        let day = try openDay()
        _ = try ticketRow(ticket)
        let c = cash ?? .zero, q = qr ?? .zero
        guard c >= .zero, q >= .zero, c + q > .zero else { throw VanError.refused("give the amount paid with --cash AMOUNT and/or --qr AMOUNT") }
        let ref = qrRef?.trimmingCharacters(in: .whitespaces)
        if q > .zero && (ref ?? "").isEmpty { throw VanError.refused("a QR payment needs the payment's reference: add --qr-ref REF") }
        guard let open = try balances().first(where: { $0.ticket == ticket }) else {
            throw VanError.refused("\(ticket) has nothing owed on it as far as this handheld knows; `tally van balances` lists what shops owe")
        }
        guard c + q <= open.balance else {
            throw VanError.refused("\(c + q) is more than the \(open.balance) \(open.customerName) owes on \(ticket); take \(open.balance) at most")
        }
        let at = now
        return try replica.write { tx in
            try record(tx, .collect, subject: ticket, day: day, at: at, ticket: ticket, [
                "amount": .integer(c.minorUnits), "due": .integer((c + q).minorUnits), "product": .text(open.customer),
                "ref": ref.map(Value.text) ?? .null, "note": Self.optionalText(note)])
        }
    }
}
