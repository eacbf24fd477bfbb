import Foundation
import TallyReplica

extension VanBook {
    /// Cancels an entry with a compensating `void` entry that names it; nothing is overwritten.
    ///
    /// Only the device that recorded an entry voids it, only while its day is open. A refusal
    /// and a day close are final; a delivery is voided only after its returns; a scan only
    /// before the delivery that counted it.
    @discardableResult
    public func void(_ event: String, reason: String) throws -> String {
        let day = try openDay()
        let why = reason.trimmingCharacters(in: .whitespaces)
        guard !why.isEmpty else { throw VanError.refused("say why the entry is voided with --reason TEXT") }
        guard let row = try replica.row("events", key: event), row.isLive else {
            throw VanError.refused("there is no entry \(event); `tally van events` lists today's entries with their ids")
        }
        let target = VanEvent(row)
        guard target.route == route else { throw VanError.refused("entry \(event) belongs to route \(target.route), not \(route)") }
        guard target.device == device else {
            throw VanError.refused("entry \(event) was recorded by \(target.device); only that device, or the depot, can void it")
        }
        guard target.day == day else { throw VanError.refused("entry \(event) belongs to \(target.day), a day already closed; the accountant corrects it at settlement") }
        let ledger = try target.ticket.map { try ticketLedger($0) } ?? dayLedger(day)
        if let by = ledger.all.first(where: { $0.id == event })?.voidedBy { throw VanError.refused("entry \(event) is already voided (\(by))") }
        switch target.eventKind {
        case .void?: throw VanError.refused("\(event) is itself a void; record the entry again instead")
        case .closeDay?, .carry?, .cashMissing?: throw VanError.refused("the day close \(event) is final")
        case .refuse?:
            // Taking a refusal back the same day (the owner came back): the ticket can be delivered
            // again. Both entries stay; the ticket's status is read from the ledger (`TicketOutcome`).
            break
        case .scan?:
            if let d = ledger.active(.deliver, ticket: target.ticket ?? "").first {
                throw VanError.refused("carton \(target.ref ?? "") was handed over with delivery \(d.id); void the delivery first, or record a return")
            }
        case .deliver?:
            if let r = ledger.active(.return, ticket: target.ticket ?? "").first {
                throw VanError.refused("delivery \(event) has returns (\(r.id)); void them first")
            }
        default: break
        }
        let at = now
        return try replica.write { tx in
            try record(tx, .void, subject: event, day: day, at: at, ticket: target.ticket, ["ref": .text(event), "note": .text(why)])
        }
    }
}
