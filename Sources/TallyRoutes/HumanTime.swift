/// Times and durations as a driver or an accountant reads them: local `YYYY-MM-DD HH:MM` (or
/// just `HH:MM` on the day being talked about), and "2 d 16 h" rather than "230743 s". JSON keeps
/// ISO times with their offset; this is for human output only.
public enum HumanTime {
    /// An ISO time as local time at `offsetMinutes` (the depot's zone, Beijing by default); the
    /// text unchanged when it is not an ISO time.
    public static func local(_ iso: String, on day: String? = nil, offsetMinutes: Int = IsoTime.beijing) -> String {
        guard let ms = IsoTime.parse(iso) else { return iso }
        let s = IsoTime.format(ms, offsetMinutes: offsetMinutes)
        let date = String(s.prefix(10)), hhmm = String(s.dropFirst(11).prefix(5))
        return date == day ? hhmm : "\(date) \(hhmm)"
    }

    /// A length of time, largest units first: `42 s`, `5 min 03 s`, `3 h 05 min`, `2 d 16 h`.
    public static func duration(milliseconds ms: Int64) -> String {
        let s = abs(ms) / 1000
        switch s {
        case ..<60: return "\(s) s"
        case ..<3_600: return "\(s / 60) min \(pad(s % 60)) s"
        case ..<86_400: return "\(s / 3_600) h \(pad(s / 60 % 60)) min"
        default: return "\(s / 86_400) d \(s / 3_600 % 24) h"
        }
    }

    /// A clock's offset from the depot's: `2 d 16 h ahead`, `1.5 s behind`, `on time`.
    public static func skew(milliseconds ms: Int64) -> String {
        if abs(ms) < 1_000 { return abs(ms) < 100 ? "on time" : "\(abs(ms)) ms \(ms > 0 ? "ahead" : "behind")" }
        return "\(duration(milliseconds: ms)) \(ms > 0 ? "ahead" : "behind")"
    }

    static func pad(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
