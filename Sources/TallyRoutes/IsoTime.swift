/// ISO-8601 times as the route ledger writes them ("2026-11-28T09:50:00+08:00"), formatted and
/// parsed by hand: Foundation's formatter costs more than the rest of a delivery on a handheld.
public enum IsoTime {
    /// Beijing time, the offset entries are written in.
    public static let beijing = 8 * 60

    /// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.mmm±HH:MM` at `offsetMinutes`: what
    /// ledger entries record, precise enough to order one device's entries.
    public static func formatPrecise(_ ms: UInt64, offsetMinutes: Int = beijing) -> String {
        let s = format(ms, offsetMinutes: offsetMinutes)
        return String(s.prefix(19)) + "." + pad(Int64(ms % 1000), 3) + String(s.dropFirst(19))
    }

    /// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS±HH:MM` at `offsetMinutes`.
    public static func format(_ ms: UInt64, offsetMinutes: Int = beijing) -> String {
        let seconds = Int64(ms / 1000) + Int64(offsetMinutes) * 60
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secs = seconds - days * 86_400
        let (y, m, d) = civil(days)
        let off = abs(offsetMinutes)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2))"
            + (offsetMinutes < 0 ? "-" : "+") + "\(pad(Int64(off / 60), 2)):\(pad(Int64(off % 60), 2))"
    }

    /// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; nil for anything else,
    /// impossible dates included.
    public static func parse(_ s: String) -> UInt64? {
        let b = Array(s.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58,
              let y = num(b, 0, 4), let mo = num(b, 5, 2), let d = num(b, 8, 2), let h = num(b, 11, 2), let mi = num(b, 14, 2),
              let sec = num(b, 17, 2), isDate(y, mo, d), h < 24, mi < 60, sec < 60
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == 46 {
            var j = i + 1
            var scale: Int64 = 100
            while j < b.count, (48...57).contains(b[j]) {
                millis += Int64(b[j] - 48) * scale
                scale /= 10
                j += 1
            }
            guard j > i + 1 else { return nil }
            i = j
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == 43 || b[i] == 45, i + 6 == b.count, b[i + 3] == 58, let oh = num(b, i + 1, 2), let om = num(b, i + 4, 2),
                  oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
        }
        let total = (days(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset * 60) * 1000 + millis
        return total < 0 ? nil : UInt64(total)
    }

    /// True for a real calendar date written `YYYY-MM-DD`.
    public static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45, let y = num(b, 0, 4), let m = num(b, 5, 2), let d = num(b, 8, 2) else { return false }
        return isDate(y, m, d)
    }

    /// Days since 1970-01-01 of a date written `YYYY-MM-DD`; nil when it is not one.
    public static func dayNumber(_ s: String) -> Int64? {
        guard isDate(s) else { return nil }
        let b = Array(s.utf8)
        guard let y = num(b, 0, 4), let m = num(b, 5, 2), let d = num(b, 8, 2) else { return nil }
        return days(y, m, d)
    }

    /// The date `YYYY-MM-DD` of a day count since 1970-01-01.
    public static func date(dayNumber n: Int64) -> String {
        let (y, m, d) = civil(n)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// The date (Beijing time) of an instant in ms since 1970.
    public static func date(ofMilliseconds ms: UInt64, offsetMinutes: Int = beijing) -> String {
        date(dayNumber: (Int64(ms) / 1000 + Int64(offsetMinutes) * 60) / 86_400)
    }

    static func isDate(_ y: Int64, _ m: Int64, _ d: Int64) -> Bool {
        guard (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= lengths[Int(m - 1)]
    }

    static func num(_ b: [UInt8], _ at: Int, _ n: Int) -> Int64? {
        var v: Int64 = 0
        for k in at..<(at + n) {
            guard k < b.count, (48...57).contains(b[k]) else { return nil }
            v = v * 10 + Int64(b[k] - 48)
        }
        return v
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func days(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civil(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
