import Foundation
import TallyReplica
import TallyRoutes

/// A ticket as settlement reads it.
struct TicketInfo: Sendable {
    var ticket: String
    var route: String
    var customer: String
    var cash: Bool
    var cartons: Int
    /// What the order system priced the ticket at, as the depot imported it.
    var amountDue: Money
}

/// One business day of the depot's ledger, read for settlement without holding a million rows:
/// scans are counted and checked inside SQLite, every other entry is kept without its content,
/// and handover contents are decoded only where a figure needs them.
struct DayEntries {
    /// Active entries other than scans (voids applied), content left out except for load-outs
    /// and day closes. Entries of a kind this version does not know are not counted.
    var active: [VanEvent] = []
    /// The day's tickets, every route.
    var tickets: [TicketInfo] = []
    /// Devices with active scans that day.
    var scanDevices: Set<String> = []
    /// Active scans per ticket, whichever device scanned.
    var scansByTicket: [String: Int] = [:]
    /// Decoded handovers by ticket, whichever device delivered.
    var handoverByTicket: [String: Handover] = [:]
    /// Scans whose carton belongs elsewhere: (device, exception).
    var scanMismatches: [(String, SettlementException)] = []
    /// Deliveries whose entry does not bind its content or signature reference.
    var unbound: Set<String> = []
    /// Handover contents decoded because a figure needs the lines (shortages, part payments).
    var handovers: [String: Handover] = [:]
    /// Signature hashes of the day's deliveries the depot does not hold.
    var missingImages: Set<String> = []
    /// The day's deliveries whose signature picture is on another shop's delivery too.
    var reusedSignatures: [String: String] = [:]
    /// Refusals of the day voided (taken back), with their void.
    var withdrawnRefusals: [(refusal: VanEvent, void: VanEvent)] = []
    /// The lines of the day's tickets (and of tickets returned on that day) as the depot
    /// imported them: what every figure of money due is computed from.
    var issued: [String: [IssuedLine]] = [:]
    /// Each delivery judged against the import (`IssuedContent`), by entry id.
    var issuedContent: [String: IssuedContent] = [:]

    /// The issued price of a product on a ticket (its first line of it).
    func issuedPrice(ticket: String, product: String) -> Money? {
        issued[ticket]?.first { $0.product == product }?.unitPrice
    }

    static func load(_ replica: Replica, date: String) throws -> DayEntries {
        var d = DayEntries()
        let day: [Value] = [.text(date)]
        // Named kinds, so the (day, kind) index skips the scans instead of reading every entry.
        let nonScanKinds = EventKind.allCases.filter { $0 != .scan }.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let notVoided = LedgerSQL.notVoided

        try replica.select("SELECT ticket, route, customer, payment, cartons, amount_due FROM tickets "
                           + "WHERE date = ?1 AND tally_cl % 2 = 1", day) { r in
            d.tickets.append(TicketInfo(ticket: r[0].text ?? "", route: r[1].text ?? "", customer: r[2].text ?? "",
                                        cash: r[3].text == PaymentKind.cash.rawValue, cartons: Int(r[4].integer ?? 0),
                                        amountDue: Money(minorUnits: r[5].integer ?? 0)))
        }
        // The order system's lines: devices cannot write them (`RouteSchema`), so these are the
        // depot's import whatever a device's copy said.
        try replica.select("""
            SELECT l.ticket, l.product_code, l.product_name, l.quantity, l.unit_price FROM tickets t
            JOIN ticket_lines l ON l.ticket = t.ticket AND l.tally_cl % 2 = 1
            WHERE t.date = ?1 AND t.tally_cl % 2 = 1 ORDER BY l.ticket, l.line_no
            """, day) { r in d.addIssued(r) }
        var all: [VanEvent] = []
        try replica.select("""
            SELECT id, kind, route, device, ticket, amount, due, qty, product, reason, note, ref, hash, at, day,
                   CASE WHEN kind IN ('load_out', 'load_in', 'close_day') THEN detail END, window
            FROM events WHERE day = ?1 AND kind IN (\(nonScanKinds)) AND tally_cl % 2 = 1
            """, day) { r in
            all.append(VanEvent(id: r[0].text ?? "", kind: r[1].text ?? "", route: r[2].text ?? "", day: r[14].text ?? date,
                                ticket: r[4].text, device: r[3].text ?? "", at: r[13].text ?? "", amount: Money(minorUnits: r[5].integer ?? 0),
                                due: Money(minorUnits: r[6].integer ?? 0), product: r[8].text, qty: r[7].integer, reason: r[9].text,
                                note: r[10].text, ref: r[11].text, detail: r[15].text, hash: r[12].text, window: r[16].text))
        }
        d.active = DayLedger(events: all).active
        // Goods returned that day on a ticket of an earlier day.
        for t in Set(d.active.filter { $0.kind == EventKind.return.rawValue }.compactMap(\.ticket)) where d.issued[t] == nil {
            try replica.select("SELECT ticket, product_code, product_name, quantity, unit_price FROM ticket_lines "
                               + "WHERE ticket = ?1 AND tally_cl % 2 = 1 ORDER BY line_no",
                               [.text(t)]) { r in d.addIssued(r) }
        }

        try replica.select("""
            SELECT device, ticket, COUNT(*) FROM events
            WHERE day = ?1 AND kind = 'scan' AND tally_cl % 2 = 1 AND \(notVoided) GROUP BY device, ticket
            """, day) { r in
            let n = Int(r[2].integer ?? 0)
            d.scanDevices.insert(r[0].text ?? "")
            d.scansByTicket[r[1].text ?? "", default: 0] += n
        }
        // A carton of the scanned ticket carries its customer's code: the manifest import checks
        // that, so only cartons that are missing or belong elsewhere need a second look.
        try replica.select("""
            SELECT e.id, e.device, e.ticket, e.ref, c.ticket, (SELECT t.customer FROM tickets t WHERE t.ticket = e.ticket)
            FROM events e LEFT JOIN cartons c ON c.code = e.ref AND c.tally_cl % 2 = 1
            WHERE e.day = ?1 AND e.kind = 'scan' AND e.tally_cl % 2 = 1 AND e.\(notVoided)
              AND (c.code IS NULL OR c.ticket IS NOT e.ticket)
            """, day) { r in
            let id = r[0].text ?? "", ticket = r[2].text ?? "", code = r[3].text ?? ""
            let detail: String
            if let owner = r[4].text, owner != ticket {
                detail = "carton \(code) belongs to ticket \(owner), not to \(ticket) (customer \(r[5].text ?? "?"))"
            } else {
                detail = "carton \(code) is on no ticket of the manifest"
            }
            d.scanMismatches.append((r[1].text ?? "", SettlementException(.cartonMismatch, ticket: ticket, event: id, detail)))
        }

        // Deliveries: the binding checked for all, the content decoded where the lines matter.
        let cartonsOf = Dictionary(d.tickets.map { ($0.ticket, $0.cartons) }, uniquingKeysWith: { a, _ in a })
        let returned = Set(d.active.filter { $0.kind == EventKind.return.rawValue }.compactMap(\.ticket))
        var signatures: [String] = []
        try replica.select("""
            SELECT id, ticket, detail, hash, ref, qty, reason, amount, due FROM events
            WHERE day = ?1 AND kind = 'deliver' AND tally_cl % 2 = 1 AND \(notVoided)
            """, day) { r in
            let id = r[0].text ?? "", ticket = r[1].text ?? "", detail = r[2].text ?? "", ref = r[4].text ?? ""
            if ref.isEmpty || Handover.hash(of: detail) != r[3].text || !Self.bytes(of: detail, contain: "\"signature\":\"\(ref)\"") {
                d.unbound.insert(id)
            } else {
                signatures.append(ref)
            }
            let short = Int(r[5].integer ?? 0) < (cartonsOf[ticket] ?? 0)
            var decoded: Handover?
            // Decoded where the lines or the payment matter: shortages, part payments, QR or
            // on-account payments (less cash than the value), returns.
            if short || r[6].text != nil || returned.contains(ticket) || (r[7].integer ?? 0) < (r[8].integer ?? 0) {
                if let h = Handover.decode(detail) {
                    d.handovers[id] = h
                    d.handoverByTicket[ticket] = h
                    decoded = h
                }
            }
            // Against the import: a whole delivery of exactly the issued lines is found in the
            // bytes; anything else is decoded and compared line by line.
            guard let issued = d.issued[ticket] else { return }
            if decoded == nil && Self.bytes(of: detail, contain: IssuedContent.fullDeliveryFragment(issued)) {
                d.issuedContent[id] = IssuedContent(due: IssuedContent.full(issued), difference: nil)
            } else {
                d.issuedContent[id] = IssuedContent.check((decoded ?? Handover.decode(detail))?.lines, issued: issued)
            }
        }
        d.missingImages = Set(try replica.missingBlobs(of: signatures))
        d.reusedSignatures = try reusedSignatures(replica, date: date)
        // Refusals taken back (voided) that day: shown beside what the ticket became.
        let ledger = DayLedger(events: all)
        let voids = Dictionary(ledger.all.filter { $0.kind == EventKind.void.rawValue }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for r in ledger.all where r.kind == EventKind.refuse.rawValue {
            if let by = r.voidedBy, let v = voids[by] { d.withdrawnRefusals.append((r, v)) }
        }
        return d
    }

    /// Deliveries of the day whose signature picture is also on a delivery to another shop
    /// (any day): one picture proves one handover. By entry id, what it is shared with.
    static func reusedSignatures(_ replica: Replica, date: String) throws -> [String: String] {
        var uses: [String: [(id: String, ticket: String, customer: String, day: String)]] = [:]
        try replica.select("""
            SELECT e.ref, e.id, e.ticket, t.customer, e.day FROM events e JOIN tickets t ON t.ticket = e.ticket AND t.tally_cl % 2 = 1
            WHERE e.kind = 'deliver' AND e.tally_cl % 2 = 1 AND e.ref IN
                (SELECT ref FROM events WHERE day = ?1 AND kind = 'deliver' AND tally_cl % 2 = 1 AND ref IS NOT NULL)
            """, [.text(date)]) { r in
            uses[r[0].text ?? "", default: []].append((r[1].text ?? "", r[2].text ?? "", r[3].text ?? "", r[4].text ?? ""))
        }
        var out: [String: String] = [:]
        for (ref, list) in uses where Set(list.map(\.customer)).count > 1 {
            for u in list where u.day == date {
                let others = list.filter { $0.customer != u.customer }
                let named = others.prefix(3).map { "\($0.ticket) (\($0.customer), \($0.day))" }.joined(separator: ", ")
                out[u.id] = "the signature picture of \(u.ticket) (\(ref.prefix(12))…) is also on \(others.count) delivery"
                    + "\(others.count == 1 ? "" : "s") to another shop: \(named)\(others.count > 3 ? ", …" : ""); it proves none of them"
            }
        }
        return out
    }

    mutating func addIssued(_ r: [Value]) {
        let line = IssuedLine(product: r[1].text ?? "", name: r[2].text ?? "", quantity: Int(r[3].integer ?? 0),
                              unitPrice: Money(minorUnits: r[4].integer ?? 0))
        issued[r[0].text ?? "", default: []].append(line)
    }

    /// Byte-wise substring test: Foundation's `contains` costs more than hashing the content.
    static func bytes(of text: String, contain needle: String) -> Bool {
        var text = text, needle = needle
        return text.withUTF8 { h in
            needle.withUTF8 { n in
                guard !n.isEmpty, h.count >= n.count else { return n.isEmpty }
                let first = n[0], last = h.count - n.count
                var i = 0
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count && h[i + j] == n[j] { j += 1 }
                        if j == n.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    /// Every entry id of a device's day (voided ones and voids included): what an approval locks.
    static func ids(_ replica: Replica, date: String, device: String) throws -> [LockedEntry] {
        var out: [LockedEntry] = []
        try replica.select("SELECT id, kind, ticket, amount, at, ref FROM events WHERE day = ?1 AND device = ?2 AND tally_cl % 2 = 1",
                           [.text(date), .text(device)]) { r in
            out.append(LockedEntry(id: r[0].text ?? "", kind: r[1].text ?? "", ticket: r[2].text, amount: Money(minorUnits: r[3].integer ?? 0),
                                   at: r[4].text ?? "", ref: r[5].text))
        }
        return out
    }
}

/// An entry as an approval sees it: enough to name it in a late-entry exception.
struct LockedEntry {
    var id: String
    var kind: String
    var ticket: String?
    var amount: Money
    var at: String
    var ref: String?

    /// "scan of carton C10002-…", "deliver 925.00", "deposit 925.00 (ICBC-7788)".
    var what: String {
        switch kind {
        case EventKind.scan.rawValue: "scan of carton \(ref ?? "?")"
        case EventKind.deposit.rawValue: "deposit \(amount) (\(ref ?? "?"))"
        case EventKind.void.rawValue: "void of \(ref ?? "?")"
        default: amount == .zero ? kind : "\(kind) \(amount)"
        }
    }
}
