import TallyReplica

/// What a complaint is about: a delivery ticket, a visitor's request at a window, or a device
/// (a van, a window, a handheld) when it names neither.
public enum ComplaintAboutKind: String, Sendable, Codable, CaseIterable {
    case ticket
    case request
    case device
}

/// A complaint as recorded: one row of `complaints`, written once by the device that took it
/// (a van for a shop's complaint, a window for a visitor's) and never changed. Everything that
/// happens afterwards is a step in the `service_steps` ledger (`ComplaintView` joins them).
public struct Complaint: Sendable, Equatable, Codable {
    /// `C-<DEVICE>-<YYYYMMDD>-<n>`: unique without coordination, `n` counting the recording
    /// device's complaints of that day.
    public var id: String
    /// The recording van's route, when a van recorded it.
    public var route: String?
    /// The recording window's kind, when a window recorded it.
    public var window: String?
    /// The recording device.
    public var device: String
    /// The opening date (Beijing time): deadlines count working days from it.
    public var day: String
    public var openedAt: String
    public var aboutKind: ComplaintAboutKind
    /// The ticket, request or device complained about.
    public var about: String
    /// The complainant.
    public var byName: String
    public var phone: String?
    public var text: String
    /// What the complainant asks for.
    public var wants: String?
    /// Recorded as major: escalated to a manager at once.
    public var major: Bool
    /// The member of staff who recorded it.
    public var recordedBy: String

    public init(_ row: Row) {
        id = row.key
        route = row["route"].text
        window = row["window"].text
        device = row["device"].text ?? ""
        openedAt = row["opened_at"].text ?? ""
        day = row["day"].text ?? String(openedAt.prefix(10))
        aboutKind = row["about_kind"].text.flatMap(ComplaintAboutKind.init(rawValue:)) ?? .device
        about = row["about"].text ?? ""
        byName = row["by_name"].text ?? ""
        phone = row["phone"].text
        text = row["text"].text ?? ""
        wants = row["wants"].text
        major = (row["major"].integer ?? 0) != 0
        recordedBy = row["recorded_by"].text ?? device
    }

    /// Where it was recorded, for a person: "window complaints (W1)", "van R07 (van-07)".
    public var place: String { window.map { "window \($0) (\(device))" } ?? route.map { "van \($0) (\(device))" } ?? device }

    /// Every field, nulls included, so the JSON has the same keys for every complaint.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(route, forKey: .route)
        try c.encode(window, forKey: .window)
        try c.encode(device, forKey: .device)
        try c.encode(day, forKey: .day)
        try c.encode(openedAt, forKey: .openedAt)
        try c.encode(aboutKind, forKey: .aboutKind)
        try c.encode(about, forKey: .about)
        try c.encode(byName, forKey: .byName)
        try c.encode(phone, forKey: .phone)
        try c.encode(text, forKey: .text)
        try c.encode(wants, forKey: .wants)
        try c.encode(major, forKey: .major)
        try c.encode(recordedBy, forKey: .recordedBy)
    }
}

/// What `ComplaintBook.open` records: the complainant's words as the member of staff took them.
public struct ComplaintRequest: Sendable, Equatable {
    /// A ticket id, a request id (`DAY/QUEUE`) or a device name.
    public var about: String
    /// Forces what `about` is; nil infers it from what this replica holds (a ticket it knows,
    /// else a request it knows, else a device).
    public var aboutKind: ComplaintAboutKind?
    public var byName: String
    public var phone: String?
    public var text: String
    public var wants: String?
    /// A major complaint is escalated to a manager in the same transaction.
    public var major: Bool
    /// Why it is major (the escalation's note); a standard sentence when nil.
    public var why: String?

    public init(about: String, aboutKind: ComplaintAboutKind? = nil, byName: String, phone: String? = nil, text: String,
                wants: String? = nil, major: Bool = false, why: String? = nil) {
        self.about = about
        self.aboutKind = aboutKind
        self.byName = byName
        self.phone = phone
        self.text = text
        self.wants = wants
        self.major = major
        self.why = why
    }
}
