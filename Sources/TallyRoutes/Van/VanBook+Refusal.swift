import Foundation
import TallyReplica

extension VanBook {
    /// Records a refusal at the shop, with a reason code from `ReasonCode.all`.
    @discardableResult
    public func refuse(_ ticket: String, reason code: String, note: String? = nil) throws -> String {
        let day = try openDay()
        let t = try ticketRow(ticket, on: day)
        let reason = try Self.reason(code, for: \.refusal, what: "a refusal")
        let note = note?.trimmingCharacters(in: .whitespaces)
        if reason.needsNote && (note ?? "").isEmpty {
            throw VanError.refused("reason '\(reason.code)' needs a note saying what happened: add --note TEXT")
        }
        let ledger = try ticketLedger(ticket)
        if let d = ledger.active(.refuse, ticket: ticket).first { throw VanError.refused("ticket \(ticket) is already refused (\(d.id))") }
        if let d = ledger.active(.deliver, ticket: ticket).first {
            throw VanError.refused("ticket \(ticket) was delivered (\(d.id)); goods the shop gives back are a return: `tally van return \(ticket) --product CODE --qty N --reason CODE`")
        }
        if t["status"].text == "delivered" {
            throw VanError.refused("ticket \(ticket) is marked delivered; deliver it again after the void, or call the depot")
        }
        let at = now
        return try replica.write { tx in
            let id = try record(tx, .refuse, subject: ticket, day: day, at: at, ticket: ticket,
                                ["reason": .text(reason.code), "note": Self.optionalText(note)])
            if try tx.row("tickets", key: ticket)?["status"].text != "refused" {
                try tx.update("tickets", key: ticket, ["status": "refused"])
            }
            return id
        }
    }

    /// Records goods taken back after delivery. Never more than was delivered, less what was
    /// already returned; the value is credited, and on a cash ticket paid back in cash.
    @discardableResult
    public func returnGoods(_ ticket: String, product: String, qty: Int, reason code: String, note: String? = nil) throws -> VanEvent {
        let day = try openDay()
        _ = try ticketRow(ticket)
        let reason = try Self.reason(code, for: \.return, what: "a return")
        let note = note?.trimmingCharacters(in: .whitespaces)
        if reason.needsNote && (note ?? "").isEmpty {
            throw VanError.refused("reason '\(reason.code)' needs a note saying what happened: add --note TEXT")
        }
        guard qty > 0 else { throw VanError.refused("the quantity returned must be at least 1 carton") }
        let ledger = try ticketLedger(ticket)
        guard let delivery = ledger.active(.deliver, ticket: ticket).first,
              let handover = Handover.decode(delivery.detail) else {
            throw VanError.refused("ticket \(ticket) has not been delivered, so nothing can be returned on it")
        }
        let lines = handover.lines.filter { $0.product == product }
        guard !lines.isEmpty else {
            throw VanError.refused("product \(product) is not on ticket \(ticket); `tally van receipt \(ticket)` lists what was delivered")
        }
        let delivered = lines.reduce(0) { $0 + $1.delivered }
        let returned = ledger.active(.return, ticket: ticket).filter { $0.product == product }.reduce(0) { $0 + Int($1.qty ?? 0) }
        guard qty <= delivered - returned else {
            throw VanError.refused("\(qty) cartons of \(lines[0].name) (\(product)) cannot be returned: \(delivered) were delivered and \(returned) already returned, so at most \(delivered - returned) can come back")
        }
        let credit = Money(minorUnits: lines[0].unitPrice.minorUnits * Int64(qty))
        // Cash goes back only as far as the shop paid cash on this ticket; the rest is a credit.
        var paidBack = Money.zero
        if handover.payment == PaymentKind.cash.rawValue {
            let alreadyBack = ledger.active(.return, ticket: ticket).reduce(Money.zero) { $0 + $1.amount }
            paidBack = min(credit, max(.zero, handover.cash - alreadyBack))
            let onHand = CashPosition(try dayLedger(day), device: device).onHand
            if paidBack > onHand {
                throw VanError.refused("paying back \(paidBack) for this return needs that much cash on hand, and only \(onHand) is left after deposits; the accountant credits the shop instead: tell the depot")
            }
        }
        let at = now
        let id = try replica.write { tx in
            try record(tx, .return, subject: ticket, day: day, at: at, ticket: ticket, [
                "product": .text(product), "qty": .integer(Int64(qty)), "due": .integer(credit.minorUnits),
                "amount": .integer(paidBack.minorUnits), "reason": .text(reason.code),
                "note": Self.optionalText(note)])
        }
        guard let row = try replica.row("events", key: id) else { throw VanError.refused("the return was not stored; try again") }
        return VanEvent(row)
    }

    static func reason(_ code: String, for use: KeyPath<ReasonCode, Bool>, what: String) throws -> ReasonCode {
        guard let r = ReasonCode.named(code), r[keyPath: use] else {
            let codes = ReasonCode.all.filter { $0[keyPath: use] }.map(\.code).joined(separator: ", ")
            throw VanError.refused("'\(code)' is not a reason code for \(what); use one of \(codes) (`tally reasons` explains them)")
        }
        return r
    }
}
