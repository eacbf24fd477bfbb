import Foundation

/// A hybrid logical clock timestamp: 48 bits of wall-clock milliseconds since the Unix epoch,
/// then 16 bits of logical counter (Kulkarni et al. 2014).
///
/// Ordering is the ordering of the 64-bit value, so timestamps sort as integers in SQLite and as
/// fixed-width hex strings on the wire.
public struct HLC: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The packed 64-bit value.
    public let rawValue: UInt64

    public static let maxMilliseconds: UInt64 = (1 << 48) - 1
    public static let maxCounter: UInt16 = .max
    public static let zero = HLC(rawValue: 0)

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(milliseconds: UInt64, counter: UInt16) {
        precondition(milliseconds <= HLC.maxMilliseconds, "HLC milliseconds exceed 48 bits")  // safe: clocks clamp before building
        rawValue = (milliseconds << 16) | UInt64(counter)
    }

    /// Wall-clock part, milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: UInt64 { rawValue >> 16 }
    /// Logical part, orders events within one millisecond.
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static func < (a: HLC, b: HLC) -> Bool { a.rawValue < b.rawValue }

    /// Wire form: 16 lowercase hex digits, so string order equals clock order.
    public var hex: String {
        let s = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public init?(hex: String) {
        guard hex.count == 16, hex.allSatisfy(\.isHexDigit), let v = UInt64(hex, radix: 16) else { return nil }
        rawValue = v
    }

    /// Human form: ISO-8601 UTC time with milliseconds, then the counter.
    public var description: String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return "\(f.string(from: date))#\(counter)"
    }
}
