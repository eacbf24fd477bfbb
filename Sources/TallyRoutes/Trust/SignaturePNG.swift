import CZlib
import TallyProtocol
import TallyReplica

/// Draws a small, real signature picture (a PNG of a seeded pen stroke on white) for the demo,
/// the simulator and tests: a report shows it, `SignatureImage.check` accepts it, and two seeds
/// never give the same bytes.
public enum SignaturePNG {
    public static func make(seed: UInt64, width: Int = 160, height: Int = 60) -> [UInt8] {
        var rng = SeededGenerator(seed: seed &+ 0x5167)
        var pixels = [UInt8](repeating: 255, count: width * height)
        // A pen stroke: a wandering line across the pad, two pixels thick.
        var y = Double(height) / 2
        var slope = 0.0
        let loops = 2 + Int(rng.next() % 4)
        for x in 4..<(width - 4) {
            if x % max(1, width / (loops * 2)) == 0 { slope = Double(Int(rng.next() % 7) - 3) * 0.6 }
            y = min(Double(height - 5), max(4, y + slope))
            for dy in -1...1 { pixels[(Int(y) + dy) * width + x] = 20 }
        }
        // The seed's 64 bits as faint dots along the bottom edge: no two seeds draw the same picture.
        for bit in 0..<64 where (seed >> UInt64(bit)) & 1 == 1 && 4 + 2 * bit < width { pixels[(height - 1) * width + 4 + 2 * bit] = 200 }
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (width + 1))
        for r in 0..<height {
            raw.append(0)  // filter: none
            raw += pixels[(r * width)..<((r + 1) * width)]
        }
        var out = SignatureImage.pngSignature
        func chunk(_ type: String, _ body: [UInt8]) {
            let typed = Array(type.utf8) + body
            out += be32(body.count) + typed + be32(Int(SignatureImage.crc(typed[...])))
        }
        chunk("IHDR", be32(width) + be32(height) + [8, 0, 0, 0, 0])  // 8-bit grey, not interlaced
        chunk("IDAT", Deflate.compress(raw, level: 9))
        chunk("IEND", [])
        return out
    }

    static func be32(_ v: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }
}
