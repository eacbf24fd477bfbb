import Foundation
import TallyReplica

extension WindowBook {
    /// Takes a fee in cash (a crate deposit, a replacement customer card, a second delivery), optionally for a
    /// request. Returns the entry id.
    public func fee(_ code: String, amount: Money, request: String? = nil, payer: String? = nil) throws -> String {
        let day = try openDay()
        guard let fee = WindowFee(rawValue: code.trimmingCharacters(in: .whitespaces)) else {
            throw ServiceError.refused("'\(code)' is not a fee this window takes; the fees are \(WindowFee.codes)")
        }
        guard amount > .zero else { throw ServiceError.refused("a fee must be more than 0.00") }
        guard amount <= Money(minorUnits: 1_000_000) else { throw ServiceError.refused("\(amount) is more than a window takes in cash at once (10000.00); check the amount") }
        let requestID = try request.map { try requestRow($0).key }
        let at = now
        return try replica.write { tx in
            var values: [String: Value] = ["amount": .integer(amount.minorUnits), "due": .integer(amount.minorUnits), "product": .text(fee.rawValue)]
            if let requestID { values["ref"] = .text(requestID) }
            if let p = payer?.trimmingCharacters(in: .whitespaces), !p.isEmpty { values["note"] = .text(p) }
            return try record(tx, .fee, subject: "\(day)/\(fee.rawValue)", day: day, at: at, values)
        }
    }

    /// Cash paid in at the bank, like a van's deposit: refused above the cash on hand and for a
    /// bank reference already recorded.
    ///
    /// After today is closed, cash the close carried over or declared missing is still taken:
    /// recorded on the closed day, marked `after_close`, for the accountant.
    public func deposit(_ amount: Money, bankRef: String) throws -> String {
        let day = today
        let closed = try closedDays().contains(day)
        let ref = bankRef.trimmingCharacters(in: .whitespaces)
        var cash = CashPosition(try dayLedger(day), device: device, carriedIn: try carriedIn(before: day))
        if closed {
            cash = cash.afterClose
            if cash.onHand == .zero {
                throw ServiceError.refused("\(day) is closed at this window with no cash carried over or missing; it opens again tomorrow")
            }
        }
        if let problem = try cash.depositProblem(amount, bankRef: ref, in: replica) {
            throw ServiceError.refused(problem)
        }
        let at = now
        return try replica.write { tx in
            var values: [String: Value] = ["amount": .integer(amount.minorUnits), "ref": .text(ref)]
            if closed { values["reason"] = .text(CashPosition.afterClose) }
            return try record(tx, .deposit, subject: ref, day: day, at: at, values)
        }
    }

    /// Cash this window brought into `day` from its previous closed day (`close-day --carry`),
    /// less what it paid in after that close.
    func carriedIn(before day: String) throws -> Money {
        guard let previous = try closedDays().filter({ $0 < day }).max() else { return .zero }
        return CashPosition(try dayLedger(previous), device: device).outside.carried
    }

    /// Cancels a fee or a deposit of today recorded by mistake, with the reason.
    public func void(_ event: String, reason: String) throws -> String {
        let day = try openDay()
        let why = reason.trimmingCharacters(in: .whitespaces)
        guard !why.isEmpty else { throw ServiceError.refused("say why the entry is voided with --reason TEXT") }
        guard let row = try replica.row("events", key: event), row.isLive else {
            throw ServiceError.refused("there is no entry \(event); `tally window events` lists today's entries with their ids")
        }
        let target = VanEvent(row)
        guard target.device == device else { throw ServiceError.refused("entry \(event) was recorded by \(target.device); only that device, or the depot, can void it") }
        guard target.day == day else { throw ServiceError.refused("entry \(event) belongs to \(target.day), a day already over; the accountant corrects it at settlement") }
        guard target.kind == EventKind.fee.rawValue || target.kind == EventKind.deposit.rawValue else {
            throw ServiceError.refused("only a fee or a deposit can be voided at a window; \(event) is a \(target.kind)")
        }
        if let by = try dayLedger(day).all.first(where: { $0.id == event })?.voidedBy { throw ServiceError.refused("entry \(event) is already voided (\(by))") }
        if target.kind == EventKind.fee.rawValue {
            let cash = CashPosition(try dayLedger(day), device: device)
            guard cash.onHand >= target.amount else {
                throw ServiceError.refused("voiding \(event) would leave \(cash.onHand - target.amount) on hand: the cash is already deposited; void the deposit first")
            }
        }
        let at = now
        return try replica.write { tx in
            try record(tx, .void, subject: event, day: day, at: at, ["ref": .text(event), "note": .text(why)])
        }
    }

    /// Today's entries of this window, voided ones marked, in time order.
    public func events() throws -> [VanEvent] { try dayLedger(today).all }

    /// The day's summary as it stands (nothing is recorded).
    public func daySummary(_ day: String? = nil) throws -> WindowDaySummary {
        try summary(day ?? today)
    }

    /// Closes the day: refused while anything is unsynced; records the summary, which the next
    /// sync carries to the depot for settlement. `day`: an earlier day left unclosed.
    public func closeDay(_ day: String? = nil, unsynced: Unsynced, carry: Money? = nil, missing: Money? = nil,
                         reason: String? = nil) throws -> (event: String, summary: WindowDaySummary) {
        let day = day ?? today
        guard IsoTime.isDate(day), day <= today else { throw ServiceError.refused("'\(day)' is not a day this window can close (today is \(today))") }
        if try closedDays().contains(day) { throw ServiceError.refused("\(day) is already closed at this window") }
        guard unsynced.isEmpty else {
            throw ServiceError.refused("the day cannot be closed: \(unsynced.changes) change\(unsynced.changes == 1 ? "" : "s") not synced to the depot yet; run `tally sync` and close the day again")
        }
        var s = try summary(day)
        // Cash on hand is placed: deposited, carried to the next day, or declared missing.
        let decision: CashClose.Decision
        switch CashClose.decide(onHand: s.cashOnHand, carry: carry, missing: missing, reason: reason) {
        case .success(let d): decision = d
        case .failure(let refusal):
            throw ServiceError.refused(refusal.description.replacingOccurrences(of: "tally van deposit", with: "tally window deposit"))
        }
        if decision.carry > .zero || decision.missing > .zero {
            s.unexplained.removeAll { $0.hasPrefix("cash on hand") }
            s.cashOnHand = .zero
            if decision.carry > .zero { s.explained.append("\(decision.carry) carried over to the next day: \(decision.reason ?? "")") }
            if decision.missing > .zero { s.unexplained.append("\(decision.missing) declared missing: \(decision.reason ?? "")") }
        }
        let at = now
        let id = try replica.write { tx in
            if decision.carry > .zero {
                try record(tx, .carry, subject: day, day: day, at: at,
                           ["amount": .integer(decision.carry.minorUnits), "note": .text(decision.reason ?? "")])
            }
            if decision.missing > .zero {
                try record(tx, .cashMissing, subject: day, day: day, at: at,
                           ["amount": .integer(decision.missing.minorUnits), "note": .text(decision.reason ?? "")])
            }
            return try record(tx, .closeDay, subject: day, day: day, at: at, [
                "amount": .integer(s.cashOnHand.minorUnits), "due": .integer(s.cashCollected.minorUnits),
                "qty": .integer(Int64(s.taken)), "detail": .text(Self.json(s)),
                "note": .text(s.unexplained.isEmpty ? "balanced" : "\(s.unexplained.count) unexplained")])
        }
        return (id, s)
    }

    func summary(_ day: String) throws -> WindowDaySummary {
        let ledger = try dayLedger(day)
        let cash = CashPosition(ledger, device: device, carriedIn: try carriedIn(before: day))
        let all = try replica.rows("requests").filter(\.isLive)
        let steps = try ServiceLedger.stepsBySubject(replica)
        let views = all.map { RequestView(row: $0, steps: steps[$0.key] ?? [], today: day) }
        let mine = views.filter { $0.ownerDevice == device }
        let todays = mine.filter { $0.day == day }
        var finished: [String: Int] = [:]
        for r in mine where r.state == .done && String((r.finishedAt ?? "").prefix(10)) == day {
            finished[r.mode?.rawValue ?? "?", default: 0] += 1
        }
        let open = mine.filter { $0.state == .open || $0.state == .ready }
        let rated = mine.filter { String(($0.finishedAt ?? "").prefix(10)) == day }.compactMap(\.satisfaction)
        var feeTotals: [String: WindowDaySummary.FeeTotal] = [:]
        for f in ledger.active(.fee) {
            let code = f.product ?? "?"
            feeTotals[code, default: .init(fee: code, count: 0, amount: .zero)].count += 1
            feeTotals[code, default: .init(fee: code, count: 0, amount: .zero)].amount += f.amount
        }
        var signOffs = 0
        for v in views where v.ownerDevice != device { signOffs += v.signed.values.filter { $0.device == device && $0.day == day }.count }
        var s = WindowDaySummary(
            day: day, window: window, device: device, taken: todays.count, finished: finished,
            open: open.map(\.queue), overdue: open.filter(\.overdue).map(\.queue), signOffs: signOffs,
            satisfied: rated.filter { $0 == .satisfied }.count, neutral: rated.filter { $0 == .neutral }.count,
            dissatisfied: rated.filter { $0 == .dissatisfied }.count,
            fees: feeTotals.values.sorted { $0.fee < $1.fee }, cashCollected: cash.collected, cashDeposited: cash.deposited,
            cashOnHand: cash.onHand, explained: [], unexplained: [])
        for r in todays where r.state == .waiting {
            s.unexplained.append("number \(r.queue) was taken but never served: cancel it with the reason (`tally window cancel \(r.queue) --reason TEXT`)")
        }
        for r in open {
            if r.overdue {
                s.unexplained.append("request \(r.queue) (\(r.mode?.rawValue ?? "")) was due by \(r.dueBy ?? "?") and is not done")
            } else {
                s.explained.append("request \(r.queue) (\(r.mode?.rawValue ?? "")) stays open\(r.dueBy.map { ", due by \($0)" } ?? "")\(r.unsigned.isEmpty ? "" : ", waiting for \(r.unsigned.joined(separator: ", "))")")
            }
        }
        for r in mine where r.state == .cancelled && r.day == day { s.explained.append("request \(r.queue) cancelled: \(r.cancelReason ?? "")") }
        for v in ledger.all where v.kind == EventKind.void.rawValue { s.explained.append("entry \(v.ref ?? "?") voided: \(v.note ?? "")") }
        if s.cashOnHand < .zero {
            s.unexplained.append("cash on hand is \(s.cashOnHand): more was deposited than taken; tell the accountant")
        } else if s.cashOnHand != .zero {
            s.unexplained.append("cash on hand \(s.cashOnHand) is not deposited: pay it in and record it with `tally window deposit \(s.cashOnHand) --bank-ref REF`")
        }
        return s
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(value), as: UTF8.self)) ?? "{}"
    }
}
