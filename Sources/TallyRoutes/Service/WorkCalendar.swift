import TallyReplica

/// Working days: Monday to Friday, except the holidays the depot declares, plus the weekend
/// days it declares working days (a make-up day before or after a long holiday, 调休).
/// Complaint and appointment deadlines are counted in these days.
///
/// The depot keeps the declarations in the `calendar` table (reference data every device
/// reads), so a window offline counts deadlines the same way the depot will.
public struct WorkCalendar: Sendable, Equatable {
    public enum DayKind: String, Sendable, Codable, CaseIterable {
        /// A weekday nobody works.
        case holiday
        /// A weekend day everybody works.
        case workday
    }

    /// Declared exceptions by date.
    public var declared: [String: DayKind]

    public init(declared: [String: DayKind] = [:]) { self.declared = declared }

    /// The calendar a replica holds.
    public static func load(_ replica: Replica) throws -> WorkCalendar {
        var declared: [String: DayKind] = [:]
        for row in try replica.rows("calendar") where row.isLive {
            if let kind = row["kind"].text.flatMap(DayKind.init(rawValue:)) { declared[row.key] = kind }
        }
        return WorkCalendar(declared: declared)
    }

    /// 1 = Monday … 7 = Sunday.
    static func weekday(_ dayNumber: Int64) -> Int64 {
        // 1970-01-01 was a Thursday (4).
        ((dayNumber % 7 + 7) % 7 + 3) % 7 + 1
    }

    /// Whether people work on this date.
    public func isWorkingDay(_ date: String) -> Bool {
        if let kind = declared[date] { return kind == .workday }
        guard let n = IsoTime.dayNumber(date) else { return false }
        return Self.weekday(n) <= 5
    }

    /// The `count`-th working day after `date` (not counting `date` itself): a deadline of "one
    /// working day after opening" ends at the end of that day.
    public func workingDay(after date: String, count: Int) -> String {
        guard var n = IsoTime.dayNumber(date) else { return date }
        var left = max(count, 0)
        while left > 0 {
            n += 1
            if isWorkingDay(IsoTime.date(dayNumber: n)) { left -= 1 }
        }
        return IsoTime.date(dayNumber: n)
    }

    /// Working days from `from` to `to`, counting `to` but not `from`: 0 on the same day, 1 when
    /// `to` is the next working day. Negative when `to` is earlier.
    public func workingDays(from: String, to: String) -> Int {
        guard let a = IsoTime.dayNumber(from), let b = IsoTime.dayNumber(to) else { return 0 }
        if b < a { return -workingDays(from: to, to: from) }
        var count = 0
        var n = a
        while n < b {
            n += 1
            if isWorkingDay(IsoTime.date(dayNumber: n)) { count += 1 }
        }
        return count
    }
}

extension WorkCalendar {
    /// Declares a date a holiday or a working day in the depot's replica (reference data: every
    /// device receives it at its next sync). Declaring what the week already says (a Saturday
    /// holiday) is refused as a likely mistake; `remove` takes a declaration back.
    public static func declare(_ date: String, _ kind: DayKind, note: String?, in replica: Replica) throws {
        guard let n = IsoTime.dayNumber(date) else { throw ServiceError.refused("'\(date)' is not a date like 2026-12-25") }
        let weekend = weekday(n) > 5
        if kind == .holiday && weekend { throw ServiceError.refused("\(date) is a \(weekday(n) == 6 ? "Saturday" : "Sunday"), not a working day anyway") }
        if kind == .workday && !weekend { throw ServiceError.refused("\(date) is a weekday, a working day anyway") }
        var row: [String: Value] = ["kind": .text(kind.rawValue)]
        if let t = note?.trimmingCharacters(in: .whitespaces), !t.isEmpty { row["note"] = .text(t) }
        try replica.write { tx in
            if try tx.row("calendar", key: date)?.isLive == true { try tx.update("calendar", key: date, row) } else { try tx.insert("calendar", key: date, row) }
        }
    }

    /// Takes back a declaration; false when there was none.
    @discardableResult
    public static func remove(_ date: String, in replica: Replica) throws -> Bool {
        try replica.write { tx in
            guard try tx.row("calendar", key: date)?.isLive == true else { return false }
            try tx.delete("calendar", key: date)
            return true
        }
    }
}
