import Foundation
import TallyReplica

/// A van's working day on its own replica, offline: reading the day's tickets and recording
/// what happens at each shop. Every method checks its rules first and, when it refuses, changes
/// nothing.
///
/// The working day is the earliest manifest date of this route that this van has not closed.
public struct VanBook: Sendable {
    public let replica: Replica
    /// The device name events are recorded under.
    public let device: String
    public let route: String
    let clock: any WallClock
    /// Signs every entry this van records (nil: a replica joined before devices had keys).
    public let key: DeviceKey?

    public init(replica: Replica, device: String, route: String, clock: any WallClock = SystemWallClock(), key: DeviceKey? = nil) {
        self.replica = replica
        self.device = device
        self.route = route
        self.clock = clock
        self.key = key
    }

    /// Opens the book of a joined replica: device and route come from the join.
    public static func joined(_ replica: Replica, clock: any WallClock = SystemWallClock()) throws -> VanBook {
        guard let device = try replica.setting("sync.device"), let route = try replica.setting("sync.scope"),
              try replica.setting("sync.role") ?? "van" == "van" else {
            throw VanError.refused("\(replica.path) is not a van's replica; join the depot first with `tally join URL --credential TOKEN --replica \(replica.path)`")
        }
        let book = VanBook(replica: replica, device: device, route: route, clock: clock, key: try DeviceKey.stored(in: replica))
        try book.prepareIndexes()
        return book
    }

    /// Local indexes for the lookups every command makes (not replicated).
    public func prepareIndexes() throws {
        try replica.ensureIndexes([("events", ["ticket"]), ("events", ["kind"]), ("events", ["day"]), ("events", ["ref"]), ("tickets", ["route"]),
                                   ("ticket_lines", ["ticket"]), ("cartons", ["ticket"])])
    }

    // MARK: - Time

    var nowMilliseconds: UInt64 { clock.nowMilliseconds() }

    /// Now, as recorded in events: ISO-8601 in Beijing time.
    var now: String { Self.timestamp(nowMilliseconds) }

    static func timestamp(_ ms: UInt64) -> String { IsoTime.formatPrecise(ms) }

    static func milliseconds(_ iso: String) -> UInt64? { IsoTime.parse(iso) }

    // MARK: - The working day

    /// The day this van is working: the earliest manifest date of the route it has not closed.
    /// Nil when there are no tickets at all.
    public func workingDay() throws -> WorkingDay? {
        try workingDay(among: routeTickets())
    }

    /// The working day among tickets already read (a command reads the route's tickets once).
    func workingDay(among routeTickets: [Row]) throws -> WorkingDay? {
        try workingDay(dates: Set(routeTickets.compactMap { $0["date"].text }))
    }

    /// The working day among the dates the route has tickets for: see `BusinessDay.choose`.
    func workingDay(dates: Set<String>) throws -> WorkingDay? {
        guard !dates.isEmpty else { return nil }
        let closes = try DayLedger(replica.rows("events", where: "kind", is: .text(EventKind.closeDay.rawValue)), ordered: false)
            .active.filter { $0.route == route }
        return try BusinessDay.choose(dates: dates, closedHere: Set(closes.filter { $0.device == device }.map(\.day)),
                                      closedElsewhere: Set(closes.filter { $0.device != device }.map(\.day)),
                                      today: String(IsoTime.format(nowMilliseconds).prefix(10))) { day in
            // By the day index: one row is enough.
            var any = false
            try replica.select("SELECT 1 FROM events WHERE day = ?1 AND device = ?2 AND tally_cl % 2 = 1 LIMIT 1",
                               [.text(day), .text(device)]) { _ in any = true }
            return any
        }
    }

    /// The working day, refusing when there is none or it is closed: for commands that record.
    func openDay() throws -> String {
        // The route's dates alone, not its tickets: every scan and delivery asks.
        var dates = Set<String>()
        try replica.select("SELECT DISTINCT date FROM tickets WHERE route = ?1 AND tally_cl % 2 = 1", [.text(route)]) { v in
            if let d = v[0].text { dates.insert(d) }
        }
        return try openDay(day: try workingDay(dates: dates))
    }

    func openDay(among routeTickets: [Row]) throws -> String {
        try openDay(day: try workingDay(among: routeTickets))
    }

    private func openDay(day: WorkingDay?) throws -> String {
        guard let day else {
            throw VanError.refused("there are no tickets for route \(route) on this handheld; sync with the depot to load today's manifest")
        }
        guard !day.closed else {
            throw VanError.refused("the day \(day.date) is closed on this handheld and nothing more can be recorded for it; sync to load the next day's manifest")
        }
        return day.date
    }

    // MARK: - Reading

    func routeTickets() throws -> [Row] { try replica.rows("tickets", where: "route", is: .text(route)) }

    func dayTickets(_ day: String, among routeTickets: [Row]) -> [Row] {
        routeTickets.filter { $0["date"].text == day }
            .sorted { ($0["stop"].integer ?? 0, $0.key) < ($1["stop"].integer ?? 0, $1.key) }
    }

    func ticketRow(_ ticket: String) throws -> Row {
        guard let t = try replica.row("tickets", key: ticket), t.isLive, t["route"].text == route else { throw unknownTicket(ticket) }
        return t
    }

    /// A ticket of this route for the working day; refuses one of another day.
    func ticketRow(_ ticket: String, on day: String) throws -> Row {
        let t = try ticketRow(ticket)
        guard t["date"].text == day else { throw VanError.refused("ticket \(ticket) is for \(t["date"].text ?? "another day"), not today (\(day))") }
        return t
    }

    /// A note as stored: trimmed text, or NULL when there is none.
    static func optionalText(_ s: String?) -> Value {
        guard let t = s?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return .null }
        return .text(t)
    }

    /// Every entry of the day for this route, voids applied.
    public func dayLedger(_ day: String) throws -> DayLedger {
        DayLedger(try replica.rows("events", where: "day", is: .text(day)).filter { $0["route"].text == route })
    }

    func ticketLedger(_ ticket: String) throws -> DayLedger {
        DayLedger(try replica.rows("events", where: "ticket", is: .text(ticket)))
    }

    /// Today's tickets of this route in stop order.
    public func tickets() throws -> [TicketView] {
        let routeRows = try routeTickets()
        guard let day = try workingDay(among: routeRows) else { return [] }
        let ledger = try dayLedger(day.date)
        var scanned: [String: Int] = [:]
        for e in ledger.active(.scan) { scanned[e.ticket ?? "", default: 0] += 1 }
        var byTicket: [String: [VanEvent]] = [:]
        for e in ledger.active where e.kind == EventKind.deliver.rawValue || e.kind == EventKind.refuse.rawValue {
            byTicket[e.ticket ?? "", default: []].append(e)
        }
        var names: [String: String] = [:]
        return try dayTickets(day.date, among: routeRows).map { t in
            let customer = t["customer"].text ?? ""
            if names[customer] == nil { names[customer] = try replica.row("customers", key: customer)?["name"].text ?? "" }
            return view(t, name: names[customer] ?? "", events: byTicket[t.key] ?? [], scanned: scanned[t.key] ?? 0)
        }
    }

    func view(_ t: Row, name: String, events: [VanEvent], scanned: Int) -> TicketView {
        let delivered = events.first { $0.kind == EventKind.deliver.rawValue }
        let refused = events.first { $0.kind == EventKind.refuse.rawValue }
        let column = t["status"].text ?? ""
        let status: String
        switch (delivered, refused) {
        case (.some, .some): status = "delivered|refused"
        case (.some, nil): status = "delivered"
        case (nil, .some): status = "refused"
        case (nil, nil): status = column == "delivered" ? "delivery voided" : column == "refused" ? "refusal taken back" : column
        }
        return TicketView(ticket: t.key, day: t["date"].text ?? "", stop: Int(t["stop"].integer ?? 0), customer: t["customer"].text ?? "",
                          customerName: name, payment: t["payment"].text ?? "",
                          amountDue: Money(minorUnits: t["amount_due"].integer ?? 0), status: status,
                          promisedBy: t["promised_by"].text,
                          cashCollected: delivered?.amount, cartonsScanned: scanned,
                          cartonsExpected: Int(t["cartons"].integer ?? 0))
    }

    /// One ticket with its lines and how many of each line's cartons are scanned.
    public func show(_ ticket: String) throws -> (TicketView, [LineView]) {
        let t = try ticketRow(ticket)
        let ledger = try ticketLedger(ticket)
        let scans = ledger.active(.scan, ticket: ticket)
        var scannedByProduct: [String: Int] = [:]
        for s in scans { scannedByProduct[s.product ?? "", default: 0] += 1 }
        let name = try replica.row("customers", key: t["customer"].text ?? "")?["name"].text ?? ""
        let view = view(t, name: name, events: ledger.active.filter { $0.kind == EventKind.deliver.rawValue || $0.kind == EventKind.refuse.rawValue },
                        scanned: scans.count)
        var remaining = scannedByProduct
        let lines = try ticketLines(ticket).map { l in
            let product = l["product_code"].text ?? ""
            let quantity = Int(l["quantity"].integer ?? 0)
            let here = min(quantity, remaining[product] ?? 0)
            remaining[product, default: 0] -= here
            return LineView(product: product, name: l["product_name"].text ?? "", quantity: quantity,
                            unitPrice: Money(minorUnits: l["unit_price"].integer ?? 0), scanned: here)
        }
        return (view, lines)
    }

    func ticketLines(_ ticket: String) throws -> [Row] {
        try replica.rows("ticket_lines", where: "ticket", is: .text(ticket)).sorted { ($0["line_no"].integer ?? 0) < ($1["line_no"].integer ?? 0) }
    }

    /// The day's ledger entries of this route, voided ones marked, in time order.
    public func events() throws -> [VanEvent] {
        guard let day = try workingDay() else { return [] }
        return try dayLedger(day.date).all
    }

    func unknownTicket(_ ticket: String) -> VanError {
        .refused("there is no ticket \(ticket) on route \(route); `tally van tickets` lists today's tickets")
    }

    // MARK: - Recording

    /// A new entry's id: `DEVICE/KIND/SUBJECT`, with `#2`, `#3`... when the subject repeats
    /// (a delivery made again after a void). Only this device writes ids under its name.
    func newEventID(_ tx: WriteTransaction, _ kind: EventKind, _ subject: String) throws -> String {
        try LedgerKey.next(tx, "events", "\(device)/\(kind.rawValue)/\(subject)")
    }

    /// Appends an entry with the common columns filled in; returns its id.
    @discardableResult
    func record(_ tx: WriteTransaction, _ kind: EventKind, subject: String, day: String, at: String, ticket: String? = nil,
                _ values: [String: Value] = [:]) throws -> String {
        let id = try newEventID(tx, kind, subject)
        var row: [String: Value] = ["route": .text(route), "kind": .text(kind.rawValue), "device": .text(device), "at": .text(at),
                                    "day": .text(day), "amount": 0]
        if let ticket { row["ticket"] = .text(ticket) }
        for (k, v) in values { row[k] = v }
        try EventChain.insert(tx, id: id, row, key: key)
        return id
    }
}

/// The day a van is working, and whether it has been closed.
public struct WorkingDay: Sendable, Codable, Equatable {
    public var date: String
    public var closed: Bool
}
