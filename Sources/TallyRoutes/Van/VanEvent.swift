import TallyReplica

/// One entry of the event ledger, as the route and window operations read it.
public struct VanEvent: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    /// The van's route; empty for a window's entry.
    public var route: String
    /// The window's kind, for a window's entry.
    public var window: String?
    public var day: String
    public var ticket: String?
    public var device: String
    public var at: String
    public var amount: Money
    public var due: Money
    public var product: String?
    public var qty: Int64?
    public var reason: String?
    public var note: String?
    public var ref: String?
    public var detail: String?
    public var hash: String?
    /// The void entry that cancelled this one, if any (filled in by `DayLedger`).
    public var voidedBy: String?

    public var eventKind: EventKind? { EventKind(rawValue: kind) }

    /// An entry read some other way than as a row (a report's own query).
    public init(id: String, kind: String, route: String, day: String, ticket: String?, device: String, at: String, amount: Money,
                due: Money, product: String?, qty: Int64?, reason: String?, note: String?, ref: String?, detail: String?, hash: String?, window: String? = nil) {
        self.id = id
        self.window = window
        self.kind = kind
        self.route = route
        self.day = day
        self.ticket = ticket
        self.device = device
        self.at = at
        self.amount = amount
        self.due = due
        self.product = product
        self.qty = qty
        self.reason = reason
        self.note = note
        self.ref = ref
        self.detail = detail
        self.hash = hash
    }

    init(_ row: Row) {
        id = row.key
        kind = row["kind"].text ?? ""
        route = row["route"].text ?? ""
        window = row["window"].text
        day = row["day"].text ?? String((row["at"].text ?? "").prefix(10))
        ticket = row["ticket"].text
        device = row["device"].text ?? ""
        at = row["at"].text ?? ""
        amount = Money(minorUnits: row["amount"].integer ?? 0)
        due = Money(minorUnits: row["due"].integer ?? 0)
        product = row["product"].text
        qty = row["qty"].integer
        reason = row["reason"].text
        note = row["note"].text
        ref = row["ref"].text
        detail = row["detail"].text
        hash = row["hash"].text
    }
}

/// A set of ledger entries with voids applied: what still counts.
public struct DayLedger: Sendable {
    /// Every entry, voids included, in time order.
    public let all: [VanEvent]
    /// Entries not voided, voids excluded.
    public let active: [VanEvent]

    /// `ordered`: sort by time (for people); reports that only add up skip it.
    public init(_ rows: [Row], ordered: Bool = true) {
        self.init(events: rows.map(VanEvent.init), ordered: ordered)
    }

    public init(events: [VanEvent], ordered: Bool = false) {
        var events = events
        var voided: [String: String] = [:]
        for e in events where e.kind == EventKind.void.rawValue { if let target = e.ref { voided[target] = e.id } }
        if !voided.isEmpty { for i in events.indices { events[i].voidedBy = voided[events[i].id] } }
        if ordered { events.sort { ($0.at, $0.id) < ($1.at, $1.id) } }
        all = events
        active = events.filter { $0.voidedBy == nil && $0.kind != EventKind.void.rawValue }
    }

    public func active(_ kind: EventKind) -> [VanEvent] { active.filter { $0.kind == kind.rawValue } }
    public func active(_ kind: EventKind, ticket: String) -> [VanEvent] { active.filter { $0.kind == kind.rawValue && $0.ticket == ticket } }
}
