import Foundation
import TallyReconcile
import TallyRoutes

/// A reconciliation as a terminal table, as CSV for Excel, and as the JSON contract.
enum ReconcileText {
    static func json(_ r: Reconciliation) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(r), as: UTF8.self)
    }

    static func table(_ r: Reconciliation) -> String {
        var t = TextTable(["device", "route", "status", "tickets", "delivered", "refused", "open", "expected", "collected", "deposited", "variance", "exceptions"],
                          rightAligned: [3, 4, 5, 6, 7, 8, 9, 10, 11])
        for s in r.settlements {
            t.add([s.device, s.unit, s.status.rawValue, String(s.tickets.planned), String(s.tickets.delivered), String(s.tickets.refused),
                   String(s.tickets.open), s.cash.expected.description, s.cash.collected.description, s.cash.deposited.description,
                   s.cash.variance.description, String(s.exceptions.count)])
        }
        t.add(["total", "", "", "", "", "", "", r.totals.expected.description, r.totals.collected.description, r.totals.deposited.description,
               r.totals.variance.description, ""])
        var out = "settlement of \(r.date) (\(r.currency))\n" + t.render()
        for s in r.settlements where !s.exceptions.isEmpty || s.cash.carriedIn != .zero || s.cash.carriedOut != .zero {
            out += "\n\n\(s.device) (\(s.unit)), \(s.status.rawValue):"
            if s.cash.carriedIn != .zero || s.cash.carriedOut != .zero || s.cash.declaredMissing != .zero {
                out += "\n  cash: brought from the day before \(s.cash.carriedIn), carried over to the next \(s.cash.carriedOut), "
                    + "declared missing \(s.cash.declaredMissing); variance = deposited + carried over − collected − brought"
            }
            for x in s.exceptions { out += "\n  \(x.kind.rawValue)\(x.ticket.map { " \($0)" } ?? ""): \(x.detail)" }
        }
        if !r.unmatchedBankLines.isEmpty {
            out += "\n\nbank lines no deposit matched:"
            for b in r.unmatchedBankLines { out += "\n  \(b.date) \(b.account) \(b.amount) \(b.reference)" }
        }
        return out
    }

    /// Excel-ready: the caller adds the UTF-8 BOM; lines end in CRLF; fields quoted when needed.
    static func csv(_ r: Reconciliation) -> String {
        var rows: [[String]] = [["date", "device", "route", "status", "planned", "delivered", "refused", "open", "expected", "collected", "deposited", "variance", "exceptions"]]
        for s in r.settlements {
            rows.append([r.date, s.device, s.unit, s.status.rawValue, String(s.tickets.planned), String(s.tickets.delivered), String(s.tickets.refused),
                         String(s.tickets.open), s.cash.expected.description, s.cash.collected.description, s.cash.deposited.description,
                         s.cash.variance.description, String(s.exceptions.count)])
        }
        rows.append([])
        rows.append(["date", "device", "route", "exception", "ticket", "entry", "detail"])
        for s in r.settlements {
            for x in s.exceptions { rows.append([r.date, s.device, s.unit, x.kind.rawValue, x.ticket ?? "", x.event ?? "", x.detail]) }
        }
        return CSVText.encode(rows)
    }
}
