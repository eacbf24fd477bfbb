/// A replica's identity: 128 random bits, chosen once when the replica is created.
///
/// Site ids break ties between equal clock values, so they compare as unsigned big-endian
/// integers (byte by byte), the same in every implementation.
public struct SiteID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh id from the given generator; inject a seeded one for repeatable runs.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SiteID {
        SiteID(high: generator.next(), low: generator.next())
    }

    public static func random() -> SiteID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }

    public static func < (a: SiteID, b: SiteID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// 16 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.init(high: h, low: l)
    }

    /// 32 lowercase hex digits: the wire and display form.
    public var hex: String {
        func pad(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return pad(high) + pad(low)
    }

    public init?(hex: String) {
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit),
              let h = UInt64(hex.prefix(16), radix: 16), let l = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: h, low: l)
    }

    public var description: String { hex }
}
