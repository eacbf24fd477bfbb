import Foundation
import TallyReplica

/// One product of a load-out count.
public struct LoadCount: Sendable, Codable, Equatable {
    public var product: String
    public var name: String
    public var expected: Int
    public var counted: Int
    public var difference: Int { counted - expected }

    /// The counts a load-out or load-in entry's `detail` holds; nil when absent or unreadable.
    public static func decode(_ json: String?) -> [LoadCount]? {
        json.flatMap { try? JSONDecoder().decode([LoadCount].self, from: Data($0.utf8)) }
    }

    /// The counts of a load-out or load-in, checked: every product named, or the rest said to
    /// match (`restMatch`); a difference recorded only when confirmed, and shown when not.
    static func check(_ what: String, expected: [String: Int], names: [String: String], given: [String: Int],
                      restMatch: Bool, confirm: Bool) throws -> [LoadCount] {
        let unnamed = expected.keys.sorted().filter { given[$0] == nil }
        if !unnamed.isEmpty && !restMatch {
            let list = unnamed.map { "\(names[$0] ?? $0) (\($0)) \(expected[$0] ?? 0)" }.joined(separator: ", ")
            let head = "the \(what) was not recorded: \(unnamed.count) product\(unnamed.count == 1 ? " is" : "s are")"
            throw VanError.refused("\(head) not counted: \(list); "
                + "count each with --count PRODUCT=QTY, or add --rest-match if they match these figures")
        }
        let counts = expected.keys.sorted().map { p in
            LoadCount(product: p, name: names[p] ?? p, expected: expected[p] ?? 0, counted: given[p] ?? expected[p] ?? 0)
        }
        let differences = counts.filter { $0.difference != 0 }
        if !differences.isEmpty && !confirm {
            let list = differences.map {
                "\($0.name) (\($0.product)) counted \($0.counted), expected \($0.expected) (\($0.difference > 0 ? "+" : "")\($0.difference))"
            }
            throw VanError.refused("the \(what) was not recorded: \(differences.count) difference\(differences.count == 1 ? "" : "s"): "
                + list.joined(separator: "; ") + "; count again, or add --confirm to record the difference")
        }
        return counts
    }

    public init(product: String, name: String, expected: Int, counted: Int) {
        self.product = product
        self.name = name
        self.expected = expected
        self.counted = counted
    }
}

/// A recorded load-out.
public struct LoadOutRecord: Sendable, Codable, Equatable {
    public var event: String
    public var counts: [LoadCount]
    public var differences: [LoadCount] { counts.filter { $0.difference != 0 } }
}

extension VanBook {
    /// Records the count of what was loaded before leaving. A count is blind to nothing: every
    /// product on board is named, or `restMatch` says the rest match the manifest; differences
    /// are shown and recorded only when `confirm`ed. The day's tickets become `loaded`.
    public func loadOut(counts given: [String: Int], restMatch: Bool = true, confirm: Bool = true) throws -> LoadOutRecord {
        let routeRows = try routeTickets()
        let day = try openDay(among: routeRows)
        let ledger = try dayLedger(day)
        if let previous = ledger.active(.loadOut).first(where: { $0.device == device }) {
            throw VanError.refused("the load-out is already recorded (\(previous.id)); to count again, void it first with `tally van void \(previous.id) --reason TEXT`")
        }
        let tickets = dayTickets(day, among: routeRows)
        var expected: [String: Int] = [:]
        var names: [String: String] = [:]
        for t in tickets where t["status"].text != "refused" {
            for l in try ticketLines(t.key) {
                let p = l["product_code"].text ?? ""
                expected[p, default: 0] += Int(l["quantity"].integer ?? 0)
                names[p] = l["product_name"].text ?? p
            }
        }
        var problems: [String] = []
        for (p, n) in given.sorted(by: { $0.key < $1.key }) {
            if expected[p] == nil { problems.append("product \(p) is on no ticket of route \(route) for \(day); check the code") }
            if n < 0 { problems.append("the count of \(p) cannot be negative") }
        }
        if !problems.isEmpty { throw VanError.refused("the load-out was not recorded: " + problems.joined(separator: "; ")) }
        let counts = try LoadCount.check("load-out", expected: expected, names: names, given: given, restMatch: restMatch, confirm: confirm)
        let detail = Self.json(counts)
        let differences = counts.filter { $0.difference != 0 }
        let note = differences.isEmpty ? "as the manifest" : differences.map { "\($0.product) \($0.difference > 0 ? "+" : "")\($0.difference)" }.joined(separator: ", ")
        let at = now
        let id = try replica.write { tx in
            let id = try record(tx, .loadOut, subject: day, day: day, at: at, [
                "qty": .integer(Int64(counts.reduce(0) { $0 + $1.counted })), "detail": .text(detail), "note": .text(note)])
            for t in tickets where t["status"].text == "planned" {
                try tx.update("tickets", key: t.key, ["status": "loaded"])
            }
            return id
        }
        return LoadOutRecord(event: id, counts: counts)
    }

    /// Records the count of what came back to the depot at day end. Expected per product: what
    /// the load-out counted, less what was handed over, plus what was taken back. Products not
    /// named are counted as expected; differences are kept in the entry.
    public func loadIn(counts given: [String: Int], restMatch: Bool = true, confirm: Bool = true) throws -> LoadOutRecord {
        let day = try openDay()
        let ledger = try dayLedger(day)
        let mine = ledger.active.filter { $0.device == device }
        if let previous = mine.first(where: { $0.kind == EventKind.loadIn.rawValue }) {
            throw VanError.refused("the load-in is already recorded (\(previous.id)); to count again, void it first with `tally van void \(previous.id) --reason TEXT`")
        }
        guard let load = mine.last(where: { $0.kind == EventKind.loadOut.rawValue }),
              let loaded = LoadCount.decode(load.detail) else {
            throw VanError.refused("there is no load-out count for \(day) to compare with; record what was loaded first with `tally van load-out`")
        }
        var expected: [String: Int] = [:]
        var names: [String: String] = [:]
        for c in loaded {
            expected[c.product] = c.counted
            names[c.product] = c.name
        }
        for d in mine where d.kind == EventKind.deliver.rawValue {
            guard let h = Handover.decode(d.detail) else { continue }
            for l in h.lines { expected[l.product, default: 0] -= l.delivered }
        }
        for r in mine where r.kind == EventKind.return.rawValue { expected[r.product ?? "", default: 0] += Int(r.qty ?? 0) }
        var problems: [String] = []
        for (p, n) in given.sorted(by: { $0.key < $1.key }) {
            if expected[p] == nil { problems.append("product \(p) was not loaded today; check the code") }
            if n < 0 { problems.append("the count of \(p) cannot be negative") }
        }
        if !problems.isEmpty { throw VanError.refused("the load-in was not recorded: " + problems.joined(separator: "; ")) }
        let counts = try LoadCount.check("load-in", expected: expected, names: names, given: given, restMatch: restMatch, confirm: confirm)
        let differences = counts.filter { $0.difference != 0 }
        let note = differences.isEmpty ? "as expected" : differences.map { "\($0.product) \($0.difference > 0 ? "+" : "")\($0.difference)" }.joined(separator: ", ")
        let at = now
        let id = try replica.write { tx in
            try record(tx, .loadIn, subject: day, day: day, at: at, [
                "qty": .integer(Int64(counts.reduce(0) { $0 + $1.counted })), "detail": .text(Self.json(counts)), "note": .text(note)])
        }
        return LoadOutRecord(event: id, counts: counts)
    }

    /// Records the pre-trip vehicle check: nil fault means all is well.
    @discardableResult
    public func vehicleCheck(fault: String?) throws -> String {
        let day = try openDay()
        let fault = fault?.trimmingCharacters(in: .whitespaces)
        if let fault, fault.isEmpty { throw VanError.refused("describe the fault with --fault TEXT, or record --ok") }
        let at = now
        return try replica.write { tx in
            try record(tx, .vehicleCheck, subject: day, day: day, at: at,
                       ["reason": .text(fault == nil ? "ok" : "fault"), "note": fault.map(Value.text) ?? .null])
        }
    }

    /// Records a driving-log entry. The odometer never goes backwards.
    @discardableResult
    public func logOdometer(_ km: Int, note: String?) throws -> String {
        let day = try openDay()
        guard km >= 0 else { throw VanError.refused("the odometer reading cannot be negative") }
        let previous = try DayLedger(replica.rows("events", where: "kind", is: .text(EventKind.odometer.rawValue)))
            .active.filter { $0.device == device }.max { ($0.qty ?? 0) < ($1.qty ?? 0) }
        if let previous, let last = previous.qty, Int64(km) < last {
            throw VanError.refused("\(km) km is below the last reading, \(last) km at \(HumanTime.local(previous.at)); check the odometer")
        }
        let note = note?.trimmingCharacters(in: .whitespaces)
        let at = now
        return try replica.write { tx in
            try record(tx, .odometer, subject: day, day: day, at: at,
                       ["qty": .integer(Int64(km)), "note": Self.optionalText(note)])
        }
    }

    /// Records cash paid in at the bank. Never more than the cash on hand; a bank reference is
    /// recorded once.
    @discardableResult
    ///
    /// After the last day is closed, a deposit of cash that day carried over or declared missing
    /// is still taken: recorded on the closed day, marked `after_close`, for the accountant.
    public func deposit(_ amount: Money, bankRef: String, slip: [UInt8]? = nil) throws -> String {
        guard let working = try workingDay() else {
            throw VanError.refused("there are no tickets for route \(route) on this handheld; sync with the depot to load today's manifest")
        }
        let day = working.date
        let ref = bankRef.trimmingCharacters(in: .whitespaces)
        let ledger = try dayLedger(day)
        var cash = CashPosition(ledger, device: device, carriedIn: try carriedIn(before: day))
        if working.closed {
            // What the closed day still places outside the bank is what may be paid in now.
            cash = cash.afterClose
            if cash.onHand == .zero {
                throw VanError.refused("the day \(day) is closed with no cash carried over or missing, so no deposit belongs to it; "
                    + "sync to load the next day's manifest, or tell the accountant")
            }
        }
        if let problem = try cash.depositProblem(amount, bankRef: ref, in: replica) {
            throw VanError.refused(problem)
        }
        if let slip, slip.isEmpty { throw VanError.refused("the deposit slip image is empty; photograph it again") }
        let at = now
        return try replica.write { tx in
            let slipHash = try slip.map { try tx.putBlob($0) }
            var values: [String: Value] = ["amount": .integer(amount.minorUnits), "ref": .text(ref), "hash": slipHash.map(Value.text) ?? .null]
            if working.closed { values["reason"] = .text(CashPosition.afterClose) }
            return try record(tx, .deposit, subject: ref, day: day, at: at, values)
        }
    }

    /// Cash this van brought into `day` from its previous closed day (`close-day --carry`),
    /// less what it paid in after that close.
    public func carriedIn(before day: String) throws -> Money {
        let closes = DayLedger(try replica.rows("events", where: "kind", is: .text(EventKind.closeDay.rawValue)), ordered: false)
            .active.filter { $0.device == device && $0.day < day }
        guard let previous = closes.map(\.day).max() else { return .zero }
        return CashPosition(try dayLedger(previous), device: device).outside.carried
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

/// Cash a device holds for a day, from its active entries.
public struct CashPosition: Sendable, Codable, Equatable {
    /// A deposit's `reason` when it was made after its day was closed.
    public static let afterClose = "after_close"

    public var collected: Money
    public var paidBack: Money
    public var deposited: Money
    /// Brought from the device's previous day (its `close-day --carry`).
    public var carriedIn: Money = .zero
    /// Carried to the next day at this day's close.
    public var carriedOut: Money = .zero
    /// Declared missing at this day's close.
    public var missing: Money = .zero
    /// Of `deposited`, what was paid in after the day was closed.
    public var depositedAfterClose: Money = .zero
    public var onHand: Money { carriedIn + collected - paidBack - deposited - carriedOut - missing }
    /// What a closed day still places outside the bank: carried over and missing, less what was
    /// paid in after its close (`CashClose.outstanding`).
    public var outside: (carried: Money, missing: Money) {
        CashClose.outstanding(carried: carriedOut, missing: missing, depositedAfterClose: depositedAfterClose)
    }
    /// A closed day's cash as a deposit after the close sees it: only what is still outside.
    public var afterClose: CashPosition { CashPosition(collected: outside.carried + outside.missing, paidBack: .zero, deposited: .zero) }

    public init(collected: Money, paidBack: Money, deposited: Money) {
        self.collected = collected
        self.paidBack = paidBack
        self.deposited = deposited
    }

    public init(_ ledger: DayLedger, device: String, carriedIn: Money = .zero) {
        let mine = ledger.active.filter { $0.device == device }
        func sum(_ kinds: EventKind...) -> Money {
            mine.filter { e in kinds.contains { $0.rawValue == e.kind } }.reduce(.zero) { $0 + $1.amount }
        }
        // A van collects at deliveries, a window takes fees.
        collected = sum(.deliver, .fee, .collect)
        paidBack = sum(.return)
        deposited = sum(.deposit)
        self.carriedIn = carriedIn
        carriedOut = sum(.carry)
        missing = sum(.cashMissing)
        depositedAfterClose = mine.filter { $0.kind == EventKind.deposit.rawValue && $0.reason == Self.afterClose }
            .reduce(.zero) { $0 + $1.amount }
    }

    /// Why a deposit from this cash cannot be recorded, or nil: nothing, no bank reference, a
    /// bank reference already recorded (one paying-in, whatever the day or device), more than
    /// the cash on hand. The same rule for a van and a window.
    func depositProblem(_ amount: Money, bankRef ref: String, in replica: Replica) throws -> String? {
        guard amount > .zero else { return "a deposit must be more than 0.00" }
        guard !ref.isEmpty else { return "give the bank's reference for the deposit with --bank-ref REF" }
        let deposits = DayLedger(try replica.rows("events", where: "kind", is: .text(EventKind.deposit.rawValue))
            + replica.rows("events", where: "kind", is: .text(EventKind.void.rawValue)))
        if let same = deposits.active.first(where: { $0.ref == ref }) {
            return "bank reference \(ref) is already recorded (\(same.id), \(same.amount)); a deposit is recorded once"
        }
        guard amount <= onHand else {
            let brought = carriedIn == .zero ? "" : "brought from the day before \(carriedIn), "
            return "\(amount) is more than the \(onHand) cash on hand (\(brought)collected \(collected), paid back \(paidBack), "
                + "deposited \(deposited)); check the amount"
        }
        return nil
    }
}
