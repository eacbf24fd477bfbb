import TallyReplica

/// Who takes a service step: the device, the scope it writes under (a van's route or a
/// window's kind) and the person at it. Every step records all three.
public struct ServiceActor: Sendable, Equatable {
    public var device: String
    /// The van's route, when the device is a van.
    public var route: String?
    /// The window's kind, when the device is a window.
    public var window: String?
    /// The member of staff (a clerk's or driver's name); the device name when nobody said.
    public var person: String

    public init(device: String, route: String? = nil, window: String? = nil, person: String? = nil) {
        self.device = device
        self.route = route
        self.window = window
        let p = person?.trimmingCharacters(in: .whitespaces) ?? ""
        self.person = p.isEmpty ? device : p
    }

    /// The actor of a joined replica (van or window), from the settings the join stored.
    public static func joined(_ replica: Replica, person: String? = nil) throws -> ServiceActor {
        guard let device = try replica.setting("sync.device"), let scope = try replica.setting("sync.scope") else {
            throw ServiceError.refused("\(replica.path) has not joined a depot; join first with `tally join URL --credential TOKEN --replica \(replica.path)`")
        }
        switch try replica.setting("sync.role") ?? "van" {
        case "window": return ServiceActor(device: device, window: scope, person: person)
        case "van": return ServiceActor(device: device, route: scope, person: person)
        default: throw ServiceError.refused("\(replica.path) belongs to an accountant's device, which records no service steps")
        }
    }

    /// Where this actor is, for a person: "window grants (W1)", "van R07 (VAN-07)".
    public var place: String {
        if let window { return "window \(window) (\(device))" }
        if let route { return "van \(route) (\(device))" }
        return device
    }
}

/// Why a service command (window, request, complaint) was refused; nothing was recorded.
public enum ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    public var description: String {
        switch self { case .refused(let s): "nothing was recorded: \(s)" }
    }
}

/// One entry of the `service_steps` ledger: a step taken on a request or a complaint. Steps are
/// never changed; the state of their subject is the join of all its steps, whichever devices
/// took them and in whatever order they arrive.
public struct ServiceStep: Sendable, Equatable, Codable {
    public var id: String
    /// The request or complaint id.
    public var subject: String
    public var action: String
    public var department: String?
    public var person: String
    public var device: String
    public var at: String
    public var day: String
    /// The step's decision or figure (valid/invalid, a department, a satisfaction level).
    public var value: String?
    public var note: String?
    public var route: String?
    public var window: String?

    public init(_ row: Row) {
        id = row.key
        subject = row["subject"].text ?? ""
        action = row["action"].text ?? ""
        department = row["department"].text
        person = row["person"].text ?? ""
        device = row["device"].text ?? ""
        at = row["at"].text ?? ""
        day = row["day"].text ?? String(at.prefix(10))
        value = row["value"].text
        note = row["note"].text
        route = row["route"].text
        window = row["window"].text
    }

    /// Where the step was taken, for a person.
    public var place: String { window.map { "window \($0) (\(device))" } ?? route.map { "van \($0) (\(device))" } ?? device }
}

/// Reading and appending service steps.
public enum ServiceLedger {
    /// Every step of a subject, in time order.
    public static func steps(_ replica: Replica, of subject: String) throws -> [ServiceStep] {
        try replica.rows("service_steps", where: "subject", is: .text(subject)).map(ServiceStep.init).sorted { ($0.at, $0.id) < ($1.at, $1.id) }
    }

    /// Every step of every subject, in time order per subject, in one pass over the ledger:
    /// what a list or report of many requests or complaints reads instead of one query each.
    public static func stepsBySubject(_ replica: Replica) throws -> [String: [ServiceStep]] {
        var out: [String: [ServiceStep]] = [:]
        for row in try replica.rows("service_steps") where row.isLive {
            let s = ServiceStep(row)
            out[s.subject, default: []].append(s)
        }
        for k in out.keys { out[k]?.sort { ($0.at, $0.id) < ($1.at, $1.id) } }
        return out
    }

    /// Local indexes the service commands read by (not replicated).
    public static func prepareIndexes(_ replica: Replica) throws {
        try replica.ensureIndexes([("service_steps", ["subject"]), ("requests", ["day"]), ("complaints", ["day"])])
    }

    /// Appends a step under an id only this device writes (`DEVICE/SUBJECT/ACTION`, with `#2`,
    /// `#3`… when the action repeats); returns the id.
    @discardableResult
    public static func append(_ tx: WriteTransaction, by actor: ServiceActor, subject: String, action: String, at: String,
                              department: String? = nil, value: String? = nil, note: String? = nil) throws -> String {
        let id = try LedgerKey.next(tx, "service_steps", "\(actor.device)/\(subject)/\(action)")
        var row: [String: Value] = ["subject": .text(subject), "action": .text(action), "person": .text(actor.person),
                                    "device": .text(actor.device), "at": .text(at), "day": .text(String(at.prefix(10)))]
        if let r = actor.route { row["route"] = .text(r) }
        if let w = actor.window { row["window"] = .text(w) }
        if let department { row["department"] = .text(department) }
        if let value { row["value"] = .text(value) }
        if let t = note?.trimmingCharacters(in: .whitespaces), !t.isEmpty { row["note"] = .text(t) }
        try tx.insert("service_steps", key: id, row)
        return id
    }
}
