import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// No two windows ever hand out the same number for the same day, whatever they do offline and
/// in whatever order their changes meet: random takes on several windows (two of one kind),
/// exchanged in random orders with duplicates and cut batches. Seeded; the seed is printed.
@Suite struct QueueNumberPropertyTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func numbersStayUniqueAcrossOfflineWindows(run: UInt64) throws {
        let seed = ProcessInfo.processInfo.environment["TALLY_QUEUE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64(UInt32.max)) &+ run
        print("[queue] seed \(seed) (repeat with TALLY_QUEUE_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let h = try Hall()
        let windows = [try h.window("W1", kind: "grants"), try h.window("W2", kind: "grants"),
                       try h.window("W3", kind: "housing"), try h.window("W4", kind: "counselling")]
        var taken: [String] = []
        for _ in 0..<60 {
            let w = windows[Int.random(in: 0..<windows.count, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                taken.append(try w.take().id)
            case 6..<8:
                // A partial exchange: a cut batch of another window's changes, possibly again.
                let other = windows[Int.random(in: 0..<windows.count, using: &rng)]
                var changes = try other.replica.changes(since: VersionVector())
                changes.shuffle(using: &rng)
                let cut = changes.prefix(Int.random(in: 0...changes.count, using: &rng))
                _ = try w.replica.apply(Array(cut) + Array(cut.prefix(3)))
            case 8:
                h.clock.advance(by: Int64.random(in: 60_000...3_600_000, using: &rng))
            default:
                // The day turns for everyone.
                h.clock.advance(by: 86_400_000)
            }
        }
        // Everyone meets everyone, twice, in a random order.
        for _ in 0..<2 {
            for a in windows.shuffled(using: &rng) { for b in windows.shuffled(using: &rng) where a !== b { try a.replica.merge(from: b.replica) } }
        }
        let digests = try Set(windows.map { try $0.replica.digest() })
        #expect(digests.count == 1, "seed \(seed): the windows did not converge")
        let rows = try windows[0].replica.rows("requests")
        #expect(Set(taken).count == taken.count, "seed \(seed): a window handed out the same id twice")
        #expect(Set(rows.map(\.key)) == Set(taken), "seed \(seed): every number taken is held once")
        let numbers = rows.map { "\($0["day"].text ?? "")/\($0["queue"].text ?? "")" }
        #expect(Set(numbers).count == numbers.count, "seed \(seed): two requests share a number on one day")
    }
}

private extension WindowBook {
    static func !== (a: WindowBook, b: WindowBook) -> Bool { a.device != b.device }
}
