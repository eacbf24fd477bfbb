import Foundation
import TallyReplica

extension VanBook {
    /// Checks every code against the ticket and records the accepted ones, all or nothing:
    /// a code on another ticket or unknown refuses the whole scan, naming the problem; a code
    /// already scanned is reported and not counted twice.
    public func scan(_ ticket: String, codes: [String]) throws -> [ScanOutcome] {
        let day = try openDay()
        let t = try ticketRow(ticket, on: day)
        let ledger = try ticketLedger(ticket)
        if let done = ledger.active(.deliver, ticket: ticket).first ?? ledger.active(.refuse, ticket: ticket).first {
            throw VanError.refused("ticket \(ticket) is already \(done.kind == "deliver" ? "delivered" : "refused") (\(done.id)); nothing more is scanned for it")
        }
        let scanned = Set(ledger.active(.scan, ticket: ticket).compactMap(\.ref))
        var outcomes: [ScanOutcome] = []
        var products: [String: String] = [:]
        var seen = Set<String>()
        for raw in codes {
            let code = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if !seen.insert(code).inserted || scanned.contains(code) {
                outcomes.append(ScanOutcome(code: code, result: .alreadyScanned, detail: "already scanned; not counted twice"))
                continue
            }
            guard let carton = try replica.row("cartons", key: code), carton.isLive else {
                outcomes.append(ScanOutcome(code: code, result: .unknown, detail: "is on no ticket of the manifest; set this carton aside and call the depot"))
                continue
            }
            let owner = carton["ticket"].text ?? ""
            if owner != ticket {
                let other = try replica.row("tickets", key: owner)
                let shop = try other.flatMap { try replica.row("customers", key: $0["customer"].text ?? "")?["name"].text } ?? ""
                outcomes.append(ScanOutcome(code: code, result: .wrongTicket,
                                            detail: "belongs to ticket \(owner) (\(shop), customer \(other?["customer"].text ?? "?")), not to \(ticket): do not hand it over here"))
                continue
            }
            products[code] = carton["product_code"].text
            outcomes.append(ScanOutcome(code: code, result: .accepted, detail: "ok"))
        }
        let refused = outcomes.filter { $0.result == .wrongTicket || $0.result == .unknown }
        if !refused.isEmpty { throw VanError.scanRefused(refused) }
        let at = now
        try replica.write { tx in
            for o in outcomes where o.result == .accepted {
                try record(tx, .scan, subject: o.code, day: day, at: at, ticket: ticket,
                           ["ref": .text(o.code), "product": products[o.code].map(Value.text) ?? .null])
            }
        }
        return outcomes
    }
}
