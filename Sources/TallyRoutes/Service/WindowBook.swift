import TallyReplica

/// A service window's working day on its own replica, offline: queue numbers, requests in the
/// three handling modes, fees taken in cash, deposits and the day close. Like `VanBook`, every
/// method checks its rules first and, when it refuses, changes nothing.
///
/// The working day is the calendar date of the window's clock (Beijing time). A day once
/// closed takes nothing more.
public struct WindowBook: Sendable {
    public let replica: Replica
    /// The device name: the prefix of this window's queue numbers, so no two windows ever hand
    /// out the same number, online or not.
    public let device: String
    /// The window's kind (its department): its scope at the depot.
    public let window: String
    /// The clerk at the counter, recorded on every step.
    public let person: String
    let clock: any WallClock
    /// Signs every entry this window records (nil: joined before devices had keys).
    public let key: DeviceKey?

    public init(replica: Replica, device: String, window: String, person: String? = nil, clock: any WallClock = SystemWallClock(),
                key: DeviceKey? = nil) {
        self.key = key
        self.replica = replica
        self.device = device
        self.window = window
        self.person = ServiceActor(device: device, window: window, person: person).person
        self.clock = clock
    }

    /// Opens the book of a joined window's replica.
    public static func joined(_ replica: Replica, person: String? = nil, clock: any WallClock = SystemWallClock()) throws -> WindowBook {
        guard try replica.setting("sync.role") == "window", let device = try replica.setting("sync.device"),
              let window = try replica.setting("sync.scope") else {
            throw ServiceError.refused("\(replica.path) is not a service window's replica; enroll it with `tally depot enroll NAME --role window --window KIND` and join with `tally join URL --credential TOKEN --replica \(replica.path)`")
        }
        let book = WindowBook(replica: replica, device: device, window: window, person: person, clock: clock,
                              key: try DeviceKey.stored(in: replica))
        try book.prepareIndexes()
        return book
    }

    public func prepareIndexes() throws {
        try ServiceLedger.prepareIndexes(replica)
        try replica.ensureIndexes([("events", ["day"]), ("events", ["kind"])])
    }

    var actor: ServiceActor { ServiceActor(device: device, window: window, person: person) }

    // MARK: - Time and the day

    var now: String { IsoTime.formatPrecise(clock.nowMilliseconds()) }

    /// Today's date at this window.
    public var today: String { IsoTime.date(ofMilliseconds: clock.nowMilliseconds()) }

    /// Days this window has closed.
    func closedDays() throws -> Set<String> {
        Set(try DayLedger(replica.rows("events", where: "kind", is: .text(EventKind.closeDay.rawValue)), ordered: false)
            .active.filter { $0.device == device }.map(\.day))
    }

    /// Today, refusing when today is already closed: for commands that record.
    func openDay() throws -> String {
        let day = today
        if try closedDays().contains(day) {
            throw ServiceError.refused("\(day) is closed at this window and nothing more can be recorded for it; it opens again tomorrow")
        }
        return day
    }

    /// The window's entries of a day, voids applied.
    public func dayLedger(_ day: String) throws -> DayLedger {
        DayLedger(try replica.rows("events", where: "day", is: .text(day)).filter { $0["device"].text == device })
    }

    /// Appends a ledger entry of this window; returns its id (`DEVICE/KIND/SUBJECT[#n]`).
    @discardableResult
    func record(_ tx: WriteTransaction, _ kind: EventKind, subject: String, day: String, at: String, _ values: [String: Value] = [:]) throws -> String {
        let id = try LedgerKey.next(tx, "events", "\(device)/\(kind.rawValue)/\(subject)")
        var row: [String: Value] = ["window": .text(window), "kind": .text(kind.rawValue), "device": .text(device), "at": .text(at),
                                    "day": .text(day), "amount": 0]
        for (k, v) in values { row[k] = v }
        try EventChain.insert(tx, id: id, row, key: key)
        return id
    }

    // MARK: - Queue

    /// Hands out the next queue number of the day: `DEVICE-NNN`. The number is this window's
    /// own sequence, so it needs no network and never collides with another window's.
    public func take(service: String? = nil) throws -> RequestView {
        let day = try openDay()
        let at = now
        let code = service?.trimmingCharacters(in: .whitespaces)
        let id = try replica.write { tx -> String in
            let mine = try tx.rows("requests", where: "day", is: .text(day)).filter { $0["device"].text == device }
            var n = mine.count + 1
            var queue = Self.queueNumber(device: device, n)
            while try tx.row("requests", key: "\(day)/\(queue)") != nil {
                n += 1
                queue = Self.queueNumber(device: device, n)
            }
            var row: [String: Value] = ["window": .text(window), "device": .text(device), "day": .text(day), "queue": .text(queue),
                                        "taken_at": .text(at)]
            if let code, !code.isEmpty { row["service"] = .text(code) }
            let id = "\(day)/\(queue)"
            try tx.insert("requests", key: id, row)
            return id
        }
        return try request(id)
    }

    static func queueNumber(device: String, _ n: Int) -> String {
        let digits = String(n)
        return "\(device)-\(String(repeating: "0", count: max(0, 3 - digits.count)))\(digits)"
    }

    // MARK: - Reading requests

    /// A request by its id (`DAY/QUEUE`) or by its queue number alone (today's, else the
    /// latest day's).
    public func request(_ ref: String) throws -> RequestView {
        let row = try requestRow(ref)
        return RequestView(row: row, steps: try ServiceLedger.steps(replica, of: row.key), today: today)
    }

    func requestRow(_ ref: String) throws -> Row {
        let r = ref.trimmingCharacters(in: .whitespaces)
        if let row = try replica.row("requests", key: r), row.isLive { return row }
        if let row = try replica.row("requests", key: "\(today)/\(r)"), row.isLive { return row }
        if let row = try replica.rows("requests", where: "queue", is: .text(r)).filter(\.isLive).max(by: { ($0["day"].text ?? "") < ($1["day"].text ?? "") }) {
            return row
        }
        throw ServiceError.refused("there is no request \(r) on this window's replica; `tally window requests` lists them (sync first if another window took it)")
    }

    /// The hall's requests this window holds: today's, or every day's with `all`; the ones
    /// still open from earlier days always (they are someone's to finish).
    public func requests(all: Bool = false) throws -> [RequestView] {
        let day = today
        let steps = try ServiceLedger.stepsBySubject(replica)
        return try replica.rows("requests").filter(\.isLive).compactMap { row -> RequestView? in
            let v = RequestView(row: row, steps: steps[row.key] ?? [], today: day)
            let unfinished = v.state == .open || v.state == .ready || v.state == .waiting
            return all || v.day == day || unfinished ? v : nil
        }.sorted { ($0.day, $0.takenAt, $0.id) < ($1.day, $1.takenAt, $1.id) }
    }
}
