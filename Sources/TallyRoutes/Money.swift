/// An amount of money in minor units (fen for CNY). Parsed from and printed as decimal strings;
/// never a floating-point number, so sums are exact to the fen.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var minorUnits: Int64

    public init(minorUnits: Int64) { self.minorUnits = minorUnits }

    public static let zero = Money(minorUnits: 0)

    /// Parses "450", "450.5", "450.50", "-45.00". More than two decimals, grouping commas,
    /// exponents or anything else is refused, with the reason.
    public init(parsing text: String) throws(MoneyError) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard !s.isEmpty, parts.count <= 2, let whole = parts.first, !whole.isEmpty,
              whole.allSatisfy(\.isASCIIDigit)
        else { throw MoneyError.notAnAmount(text) }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { throw MoneyError.notAnAmount(text) }
        guard fraction.count <= 2 else { throw MoneyError.tooPrecise(text) }
        while fraction.count < 2 { fraction += "0" }
        guard let w = Int64(whole), let f = Int64(fraction) else { throw MoneyError.tooLarge(text) }
        let (m, o1) = w.multipliedReportingOverflow(by: 100)
        let (v, o2) = m.addingReportingOverflow(f)
        guard !o1 && !o2 else { throw MoneyError.tooLarge(text) }
        minorUnits = negative ? -v : v
    }

    /// "1234.50", "-45.00".
    public var description: String {
        let sign = minorUnits < 0 ? "-" : ""
        let m = minorUnits.magnitude
        let f = m % 100
        return "\(sign)\(m / 100).\(f < 10 ? "0" : "")\(f)"
    }

    public static func < (a: Money, b: Money) -> Bool { a.minorUnits < b.minorUnits }
    public static func + (a: Money, b: Money) -> Money { Money(minorUnits: a.minorUnits + b.minorUnits) }
    public static func - (a: Money, b: Money) -> Money { Money(minorUnits: a.minorUnits - b.minorUnits) }
    public static func += (a: inout Money, b: Money) { a = a + b }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { self = try Money(parsing: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

public enum MoneyError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnAmount(String)
    case tooPrecise(String)
    case tooLarge(String)

    public var description: String {
        switch self {
        case .notAnAmount(let s): "'\(s)' is not an amount; write it like 450.00"
        case .tooPrecise(let s): "'\(s)' has more than two decimals; amounts are in yuan and fen, like 450.05"
        case .tooLarge(let s): "'\(s)' is too large an amount"
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

import Foundation
