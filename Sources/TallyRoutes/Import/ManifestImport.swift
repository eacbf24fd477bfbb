import TallyReplica

/// What importing a manifest did.
public struct ImportSummary: Sendable, Codable, Equatable {
    public var tickets: Int
    public var lines: Int
    public var cartons: Int
    /// Tickets written anew or corrected.
    public var written: Int
    /// Tickets already held exactly as in the file.
    public var unchanged: Int
    public var changes: Int
}

/// Loads a manifest into the depot's replica, all or nothing.
///
/// Importing the same file twice changes nothing. A corrected re-import replaces a ticket no
/// device has touched (status still planned, no events); a ticket already worked on is refused,
/// and then nothing of the file is imported.
public enum ManifestImport {
    public static func run(_ manifest: Manifest, into replica: Replica) throws -> ImportSummary {
        var summary = ImportSummary(tickets: manifest.tickets.count, lines: 0, cartons: 0, written: 0, unchanged: 0, changes: 0)
        let touched = try touchedTickets(replica)
        var cartonsOf: [String: [String]] = [:]
        var ticketOfCarton: [String: String] = [:]
        for c in try replica.rows("cartons") where c.isLive {
            if let t = c["ticket"].text {
                cartonsOf[t, default: []].append(c.key)
                ticketOfCarton[c.key] = t
            }
        }
        // Refuse first, before writing anything: a ticket already worked on is not replaced,
        // and a carton code already printed for another ticket is not moved.
        var refusals = try reusedCartons(manifest, ticketOfCarton: ticketOfCarton, touched: touched, replica)
        var keep = Set<String>()
        for t in manifest.tickets where touched.contains(t.ticket) {
            guard let existing = try replica.row("tickets", key: t.ticket), existing.isLive else { continue }
            keep.insert(t.ticket)
            if try differs(t, existing, replica) {
                refusals.append(.init(line: t.lines[0].line, reason: "ticket \(t.ticket) has already been worked on by a device and cannot be replaced; correct it with a return or an adjustment instead"))
            }
        }
        if !refusals.isEmpty { throw ManifestError(problems: refusals) }
        try replica.write { tx in
            for t in manifest.tickets {
                summary.lines += t.lines.count
                summary.cartons += t.cartonCount
                if keep.contains(t.ticket) {
                    summary.unchanged += 1
                    continue
                }
                let before = tx.changeCount
                try write(t, tx, previousCartons: cartonsOf[t.ticket] ?? [])
                if tx.changeCount > before { summary.written += 1 } else { summary.unchanged += 1 }
            }
            summary.changes = tx.changeCount
        }
        return summary
    }

    /// Carton codes the file puts on a ticket other than the one the depot holds them on: one of
    /// another day (a code is printed once; reusing it would rewrite a settled day's scans), or
    /// one a device already worked on. Moving a carton between untouched tickets of the same day
    /// is a correction, and allowed.
    static func reusedCartons(_ manifest: Manifest, ticketOfCarton: [String: String], touched: Set<String>,
                              _ replica: Replica) throws -> [ManifestError.Problem] {
        var problems: [ManifestError.Problem] = []
        var dates: [String: String] = [:]
        for t in manifest.tickets {
            for line in t.lines {
                guard let code = line.cartons.first(where: { ticketOfCarton[$0].map { $0 != t.ticket } ?? false }),
                      let other = ticketOfCarton[code] else { continue }
                if dates[other] == nil { dates[other] = try replica.row("tickets", key: other)?["date"].text ?? "" }
                let date = dates[other] ?? ""
                if date != t.date {
                    problems.append(.init(line: line.line, reason: "carton \(code) is already on ticket \(other) of \(date); "
                        + "a carton code is printed once and cannot be used on another day: correct the order system's export"))
                } else if touched.contains(other) {
                    problems.append(.init(line: line.line, reason: "carton \(code) is on ticket \(other), which a device has already "
                        + "worked on; it cannot move to \(t.ticket)"))
                }
            }
        }
        return problems
    }

    /// Tickets a device has touched: moved past `loaded`, or named by any event.
    static func touchedTickets(_ replica: Replica) throws -> Set<String> {
        var out = Set<String>()
        for t in try replica.rows("tickets") {
            if let s = t["status"].text, s != "planned" && s != "loaded" { out.insert(t.key) }
        }
        for e in try replica.rows("events") { if let t = e["ticket"].text { out.insert(t) } }
        return out
    }

    static func ticketValues(_ t: ManifestTicket) -> [String: Value] {
        ["date": .text(t.date), "route": .text(t.route), "stop": .integer(Int64(t.stop)), "customer": .text(t.customerCode),
         "payment": .text(t.payment.rawValue), "amount_due": .integer(t.amountDue.minorUnits),
         "promised_by": .text(t.promisedBy), "cartons": .integer(Int64(t.cartonCount))]
    }

    /// Does the file's ticket differ from the stored one: its fields, its lines or its cartons?
    static func differs(_ t: ManifestTicket, _ row: Row, _ replica: Replica) throws -> Bool {
        if ticketValues(t).contains(where: { row[$0.key] != $0.value }) { return true }
        let stored = try replica.rows("ticket_lines", where: "ticket", is: .text(t.ticket))
            .sorted { ($0["line_no"].integer ?? 0) < ($1["line_no"].integer ?? 0) }
        guard stored.count == t.lines.count else { return true }
        for (s, l) in zip(stored, t.lines) {
            if s["product_code"].text != l.productCode || s["product_name"].text != l.productName || s["quantity"].integer != Int64(l.quantity)
                || s["unit_price"].integer != l.unitPrice.minorUnits || s["box"].integer != Int64(l.box) { return true }
        }
        let cartons = try replica.rows("cartons", where: "ticket", is: .text(t.ticket))
        return Set(cartons.map(\.key)) != Set(t.lines.flatMap(\.cartons))
            || cartons.contains { c in t.lines.first { $0.cartons.contains(c.key) }?.productCode != c["product_code"].text }
    }

    static func write(_ t: ManifestTicket, _ tx: WriteTransaction, previousCartons: [String]) throws {
        try tx.upsertIfChanged("customers", key: t.customerCode,
                               ["route": .text(t.route), "name": .text(t.customerName), "address": .text(t.address), "phone": .text(t.phone)])
        var values = ticketValues(t)
        if try tx.row("tickets", key: t.ticket)?.isLive != true { values["status"] = "planned" }
        try tx.upsertIfChanged("tickets", key: t.ticket, values)
        for (n, line) in t.lines.enumerated() {
            let id = "\(t.ticket)/\(n + 1)"
            try tx.upsertIfChanged("ticket_lines", key: id, [
                "route": .text(t.route), "ticket": .text(t.ticket), "line_no": .integer(Int64(n + 1)), "box": .integer(Int64(line.box)),
                "product_code": .text(line.productCode), "product_name": .text(line.productName),
                "quantity": .integer(Int64(line.quantity)), "unit_price": .integer(line.unitPrice.minorUnits)])
            for code in line.cartons {
                try tx.upsertIfChanged("cartons", key: code, ["route": .text(t.route), "ticket": .text(t.ticket), "product_code": .text(line.productCode)])
            }
        }
        // Lines and cartons a corrected manifest dropped.
        var n = t.lines.count + 1
        while let extra = try tx.row("ticket_lines", key: "\(t.ticket)/\(n)"), extra.isLive {
            try tx.delete("ticket_lines", key: extra.key)
            n += 1
        }
        let now = Set(t.lines.flatMap(\.cartons))
        for code in previousCartons where !now.contains(code) {
            if try tx.row("cartons", key: code)?["ticket"].text == t.ticket { try tx.delete("cartons", key: code) }
        }
    }
}
