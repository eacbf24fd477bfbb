import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// The hand-written ISO-8601 formatter and parser against Foundation's, on seeded random times.
@Suite struct IsoTimeTests {
    @Test func formatsAndParsesLikeFoundation() {
        let seed = UInt64(ProcessInfo.processInfo.environment["TALLY_SEED"] ?? "") ?? 20261128
        var rng = SeededGenerator(seed: seed)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        for _ in 0..<2_000 {
            let ms = (rng.next() % 4_102_444_800) * 1000  // 1970 … 2100, whole seconds
            let offset = [480, 0, -300, 330, 545][Int(rng.next() % 5)]
            f.timeZone = TimeZone(secondsFromGMT: offset * 60)
            let ours = IsoTime.format(ms, offsetMinutes: offset)
            let theirs = f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(ours == theirs.replacingOccurrences(of: "Z", with: "+00:00"), "seed \(seed)")
            #expect(IsoTime.parse(ours) == ms, "seed \(seed): \(ours)")
        }
    }

    @Test func refusesWhatIsNotATimeWithOffset() {
        for s in ["2026-11-28", "2026-11-28T12:00:00", "2026-02-30T12:00:00+08:00", "2026-11-28T24:00:00+08:00",
                  "2026-11-28T12:00:00+0800", "2026-11-28 12:00:00+08:00x", "2026-13-01T00:00:00Z", "２026-11-28T12:00:00Z"] {
            #expect(IsoTime.parse(s) == nil, "\(s)")
        }
        #expect(IsoTime.parse("2026-11-28T04:00:00Z") == IsoTime.parse("2026-11-28T12:00:00+08:00"))
        #expect(IsoTime.parse("2026-11-28T12:00:00.250+08:00") == IsoTime.parse("2026-11-28T12:00:00+08:00")! + 250)
        #expect(IsoTime.isDate("2024-02-29") && !IsoTime.isDate("2026-02-29") && !IsoTime.isDate("2026-1-01"))
    }
}
