import Foundation
import TallyReplica

/// What a device still holds that the depot has not received.
public struct Unsynced: Sendable, Equatable {
    public var changes: Int
    public var blobs: Int
    public init(changes: Int, blobs: Int) {
        self.changes = changes
        self.blobs = blobs
    }
    public var isEmpty: Bool { changes == 0 && blobs == 0 }
}

extension VanBook {
    /// The working day's summary as it stands (a trial; nothing is recorded).
    public func daySummary() throws -> DaySummary {
        let routeRows = try routeTickets()
        guard let day = try workingDay(among: routeRows) else {
            throw VanError.refused("there are no tickets for route \(route) on this handheld; sync with the depot to load today's manifest")
        }
        return try summary(day.date, among: routeRows)
    }

    /// Closes the day: refused while anything is unsynced; otherwise records the summary, which
    /// the next sync carries to the depot. Nothing more is recorded for the day afterwards.
    ///
    /// Cash still on hand must be placed: carried to the next day on purpose (`carry`, the next
    /// day's float) or declared missing (`missing`), with a reason; otherwise the close is
    /// refused, so no cash is left on a day that can no longer book it.
    public func closeDay(unsynced: Unsynced, carry: Money? = nil, missing: Money? = nil,
                         reason: String? = nil) throws -> (event: String, summary: DaySummary) {
        let routeRows = try routeTickets()
        let day = try openDay(among: routeRows)
        guard unsynced.isEmpty else {
            var what: [String] = []
            if unsynced.changes > 0 { what.append("\(unsynced.changes) change\(unsynced.changes == 1 ? "" : "s")") }
            if unsynced.blobs > 0 { what.append("\(unsynced.blobs) image\(unsynced.blobs == 1 ? "" : "s")") }
            throw VanError.refused("the day cannot be closed: \(what.joined(separator: " and ")) not synced to the depot yet; run `tally sync` (at the depot if there is no network) and close the day again")
        }
        guard try dayLedger(day).all.contains(where: { $0.device == device }) else {
            throw VanError.refused("this handheld recorded nothing on \(day), so it has no day to close (a van is settled only for a day "
                + "it worked); if another van works \(day), sync to load this van's next day")
        }
        var s = try summary(day, among: routeRows)
        let decision: CashClose.Decision
        switch CashClose.decide(onHand: s.cashOnHand, carry: carry, missing: missing, reason: reason) {
        case .success(let d): decision = d
        case .failure(let refusal): throw VanError.refused(refusal.description)
        }
        if decision.carry > .zero || decision.missing > .zero {
            s.unexplained.removeAll { $0.hasPrefix("cash on hand") }
            s.cashOnHand = .zero
        }
        if decision.carry > .zero {
            s.cashCarriedOver = decision.carry
            s.explained.append("\(decision.carry) carried over to the next day: \(decision.reason ?? "")")
        }
        if decision.missing > .zero {
            s.cashMissing = decision.missing
            s.unexplained.append("\(decision.missing) declared missing: \(decision.reason ?? "")")
        }
        let at = now
        let id = try replica.write { tx in
            if decision.carry > .zero {
                try record(tx, .carry, subject: day, day: day, at: at,
                           ["amount": .integer(decision.carry.minorUnits), "note": Self.optionalText(decision.reason)])
            }
            if decision.missing > .zero {
                try record(tx, .cashMissing, subject: day, day: day, at: at,
                           ["amount": .integer(decision.missing.minorUnits), "note": Self.optionalText(decision.reason)])
            }
            return try record(tx, .closeDay, subject: day, day: day, at: at, [
                "amount": .integer(s.cashOnHand.minorUnits), "due": .integer(s.cashDue.minorUnits),
                "qty": .integer(Int64(s.delivered)), "detail": .text(Self.json(s)),
                "note": .text(s.unexplained.isEmpty ? "balanced" : "\(s.unexplained.count) unexplained")])
        }
        return (id, s)
    }

    func summary(_ day: String, among routeRows: [Row]) throws -> DaySummary {
        let ledger = try dayLedger(day)
        let tickets = dayTickets(day, among: routeRows)
        let deliveries = ledger.active(.deliver)
        let refusals = ledger.active(.refuse)
        let returns = ledger.active(.return)
        let handovers: [(VanEvent, Handover)] = deliveries.compactMap { e in
            Handover.decode(e.detail).map { (e, $0) }
        }
        let deliveredTickets = Set(deliveries.compactMap(\.ticket))
        let refusedTickets = Set(refusals.compactMap(\.ticket))
        let cash = CashPosition(ledger, device: device, carriedIn: try carriedIn(before: day))
        let cashTickets = Set(tickets.filter { $0["payment"].text == PaymentKind.cash.rawValue }.map(\.key))
        var s = DaySummary(
            day: day, route: route, device: device, tickets: tickets.count,
            delivered: deliveredTickets.count, refused: refusedTickets.count,
            open: tickets.map(\.key).filter { !deliveredTickets.contains($0) && !refusedTickets.contains($0) },
            late: handovers.filter { $0.1.late }.map(\.1.ticket),
            returns: returns.count, cartonsReturned: Int(returns.reduce(0) { $0 + ($1.qty ?? 0) }),
            cartonsExpected: tickets.reduce(0) { $0 + Int($1["cartons"].integer ?? 0) },
            cartonsScanned: ledger.active(.scan).count,
            cartonsShort: handovers.reduce(0) { $0 + $1.1.lines.reduce(0) { $0 + $1.short } },
            valueDelivered: deliveries.reduce(.zero) { $0 + $1.due },
            credited: returns.reduce(.zero) { $0 + $1.due },
            cashDue: deliveries.filter { cashTickets.contains($0.ticket ?? "") }.reduce(.zero) { $0 + $1.due },
            cashCollected: cash.collected, cashPaidBack: cash.paidBack, cashDeposited: cash.deposited, cashOnHand: cash.onHand,
            cashCarriedIn: cash.carriedIn == .zero ? nil : cash.carriedIn,
            partialPayments: handovers.compactMap { e, h in
                h.partialReason.map { DaySummary.PartialPayment(ticket: h.ticket, due: h.value, collected: h.cash, reason: $0) }
            },
            loadDifferences: [], vehicleCheck: nil, odometerStart: nil, odometerEnd: nil, explained: [], unexplained: [])

        let mine = ledger.active.filter { $0.device == device }
        if let check = mine.last(where: { $0.kind == EventKind.vehicleCheck.rawValue }) {
            s.vehicleCheck = check.reason == "ok" ? "ok" : "fault: \(check.note ?? "")"
        } else {
            s.unexplained.append("no vehicle check was recorded before leaving")
        }
        let readings = mine.filter { $0.kind == EventKind.odometer.rawValue }.compactMap(\.qty)
        s.odometerStart = readings.min()
        s.odometerEnd = readings.max()
        if readings.isEmpty { s.unexplained.append("no driving-log entry was recorded") }

        // Load-out differences, explained when a delivery declared the same shortage.
        var shortByProduct: [String: Int] = [:]
        var shortTickets: [String: [String]] = [:]
        for (_, h) in handovers {
            for l in h.lines where l.short > 0 {
                shortByProduct[l.product, default: 0] += l.short
                shortTickets[l.product, default: []].append(h.ticket)
            }
        }
        if let load = mine.last(where: { $0.kind == EventKind.loadOut.rawValue }),
           let counts = LoadCount.decode(load.detail) {
            s.loadDifferences = counts.filter { $0.difference != 0 }
            for c in s.loadDifferences {
                let declared = shortByProduct[c.product] ?? 0
                if c.difference == -declared {
                    s.explained.append("\(c.name) (\(c.product)): \(-c.difference) short at loading, declared short on \(shortTickets[c.product, default: []].joined(separator: ", "))")
                } else {
                    s.unexplained.append("\(c.name) (\(c.product)): load-out counted \(c.counted), manifest says \(c.expected), \(declared) declared short at shops")
                }
            }
            for (p, n) in shortByProduct.sorted(by: { $0.key < $1.key }) where !s.loadDifferences.contains(where: { $0.product == p }) {
                s.unexplained.append("\(n) carton\(n == 1 ? "" : "s") of \(p) declared short on \(shortTickets[p, default: []].joined(separator: ", ")) although the load-out counted them all")
            }
        } else {
            s.unexplained.append("no load-out count was recorded")
        }

        if let back = mine.last(where: { $0.kind == EventKind.loadIn.rawValue }),
           let counts = LoadCount.decode(back.detail) {
            for c in counts where c.difference != 0 {
                s.unexplained.append("\(c.name) (\(c.product)): \(c.counted) came back, \(c.expected) expected (loaded − delivered + returned)")
            }
        }

        for t in s.open {
            let name = try tickets.first { $0.key == t }.flatMap { try replica.row("customers", key: $0["customer"].text ?? "")?["name"].text } ?? ""
            s.unexplained.append("ticket \(t) (\(name)) was neither delivered nor refused")
        }
        for p in s.partialPayments {
            s.explained.append("ticket \(p.ticket): \(p.collected) collected of \(p.due): \(p.reason)")
        }
        for r in refusals { s.explained.append("ticket \(r.ticket ?? "") refused: \(ReasonCode.named(r.reason ?? "")?.chinese ?? r.reason ?? "")\(r.note.map { ", \($0)" } ?? "")") }
        for r in returns {
            s.explained.append("ticket \(r.ticket ?? ""): \(r.qty ?? 0) × \(r.product ?? "") returned (\(ReasonCode.named(r.reason ?? "")?.chinese ?? r.reason ?? "")), credit \(r.due)")
        }
        if cash.carriedIn > .zero { s.explained.append("\(cash.carriedIn) brought from the day before (carried over at its close)") }
        if s.cashOnHand < .zero {
            s.unexplained.append("cash on hand is \(s.cashOnHand): more was deposited or paid back than collected; tell the accountant")
        } else if s.cashOnHand != .zero {
            s.unexplained.append("cash on hand \(s.cashOnHand) is not deposited: pay it in and record it with "
                + "`tally van deposit \(s.cashOnHand) --bank-ref REF`, or carry it over at the close (`close-day --carry`)")
        }
        return s
    }
}
