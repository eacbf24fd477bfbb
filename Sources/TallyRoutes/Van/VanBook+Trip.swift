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
    /// Records the count of what was loaded before leaving. Products not named are counted as
    /// the manifest says; differences are kept in the entry. The day's tickets become `loaded`.
    public func loadOut(counts given: [String: Int]) throws -> LoadOutRecord {
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
        let counts = expected.keys.sorted().map { p in
            LoadCount(product: p, name: names[p] ?? p, expected: expected[p] ?? 0, counted: given[p] ?? expected[p] ?? 0)
        }
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
    public func loadIn(counts given: [String: Int]) throws -> LoadOutRecord {
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
        let counts = expected.keys.sorted().map { p in
            LoadCount(product: p, name: names[p] ?? p, expected: expected[p] ?? 0, counted: given[p] ?? expected[p] ?? 0)
        }
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
            throw VanError.refused("\(km) km is below the last reading, \(last) km at \(previous.at); check the odometer")
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
    public func deposit(_ amount: Money, bankRef: String, slip: [UInt8]? = nil) throws -> String {
        let day = try openDay()
        let ref = bankRef.trimmingCharacters(in: .whitespaces)
        if let problem = try CashPosition(dayLedger(day), device: device).depositProblem(amount, bankRef: ref, in: replica) {
            throw VanError.refused(problem)
        }
        if let slip, slip.isEmpty { throw VanError.refused("the deposit slip image is empty; photograph it again") }
        let at = now
        return try replica.write { tx in
            let slipHash = try slip.map { try tx.putBlob($0) }
            return try record(tx, .deposit, subject: ref, day: day, at: at,
                              ["amount": .integer(amount.minorUnits), "ref": .text(ref), "hash": slipHash.map(Value.text) ?? .null])
        }
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

/// Cash a device holds for a day, from its active entries.
public struct CashPosition: Sendable, Codable, Equatable {
    public var collected: Money
    public var paidBack: Money
    public var deposited: Money
    public var onHand: Money { collected - paidBack - deposited }

    public init(_ ledger: DayLedger, device: String) {
        let mine = ledger.active.filter { $0.device == device }
        // A van collects at deliveries, a window takes fees.
        collected = mine.filter { $0.kind == EventKind.deliver.rawValue || $0.kind == EventKind.fee.rawValue }.reduce(.zero) { $0 + $1.amount }
        paidBack = mine.filter { $0.kind == EventKind.return.rawValue }.reduce(.zero) { $0 + $1.amount }
        deposited = mine.filter { $0.kind == EventKind.deposit.rawValue }.reduce(.zero) { $0 + $1.amount }
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
            return "\(amount) is more than the \(onHand) cash on hand (collected \(collected), paid back \(paidBack), deposited \(deposited)); check the amount"
        }
        return nil
    }
}
