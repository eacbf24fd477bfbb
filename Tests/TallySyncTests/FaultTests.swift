import Foundation
import Testing
import TallyReplica

/// Processes killed in the middle of a sync: nothing is lost, nothing is counted twice.
@Suite(.timeLimit(.minutes(5)))
struct FaultTests {
    /// A depot SIGKILLed while a van pushes thousands of changes in pages, restarted on the same
    /// data folder and port; then a second van of the route killed while it pulls them all.
    @Test func depotKilledMidPushAndDeviceKilledMidPull() async throws {
        let seed = testSeed("faults")
        var rng = SeededRNG(seed: seed)
        let scratch = try Scratch("faults")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R07")
        // Vans that will pull van-a's rows join now, while the depot is empty: joining later
        // would bring the rows in the join's snapshot rather than through pull pages.
        var pullers: [DeviceFile] = []
        for name in ["van-ref", "van-b0", "van-b1", "van-b2", "van-b3"] {
            pullers.append(try await DeviceFile.join(depot, name, route: "R07"))
        }
        let total = 12_000  // three push pages of 5,000
        let keys = try writeEvents(a, count: total, prefix: "EV-a")

        // Push, and pull the plug on the depot a short random time in.
        let delay = Int.random(in: 150...1_500, using: &rng)
        let pushing = try a.syncStarting(scratch)
        try await Task.sleep(for: .milliseconds(delay))
        let port = depot.port
        await depot.crash()
        let first = await pushing.wait()
        let heldAfterCrash = try depot.rows("events").count
        print("[faults] depot killed after \(delay) ms: first sync \(first.status), depot held \(heldAfterCrash) of \(total), device ack \(try a.ack())")
        #expect(first.status == 0 || first.status == 75, "an interrupted push is 'unreachable', not an error: \(first)")
        #expect(heldAfterCrash % 5_000 == 0 || heldAfterCrash == total, "a page is stored whole or not at all: \(heldAfterCrash)")
        #expect(try a.ack() <= UInt64(heldAfterCrash), "the device never believes more acknowledged than the depot holds")

        // Restart on the same folder and port (the device's replica remembers the URL).
        try await depot.start(port: port)
        #expect(depot.port == port)
        let second = try await a.sync(scratch)
        #expect(second.status == 0, "\(second)")
        let events = try depot.rows("events")
        #expect(events.count == total, "nothing lost, nothing doubled")
        #expect(Set(events.map(\.key)) == Set(keys))
        #expect(try a.ack() == UInt64(total))
        #expect(second.summary?["pending"] as? Int == 0)

        // Other vans of the route pull 12,000 rows; each is killed part way, then syncs again.
        // How long a whole pull takes here sets the delays, so the kill lands inside it.
        let reference = pullers[0]
        let whole = try await reference.sync(scratch)
        #expect(whole.status == 0, "\(whole)")
        let expected = try depot.withReplica { try ScopedState.of($0, route: "R07") }
        #expect(expected.rows.count == total)
        var interrupted = 0
        // A pull that finished before its kill was faster than the reference (a warm cache, a
        // quieter machine): the next kill comes sooner.
        var scale = whole.seconds
        for attempt in 0..<4 where interrupted < 2 {
            let b = pullers[attempt + 1]
            let delay = scale * Double.random(in: 0.2...0.75, using: &rng)
            let pulling = try b.syncStarting(scratch)
            try await Task.sleep(for: .seconds(delay))
            pulling.signal(SIGKILL)
            let killed = await pulling.wait()
            let partial = try b.withReplica { try $0.rows("events").count }
            print("[faults] \(b) killed after \(Int(delay * 1000)) ms of a \(Int(whole.seconds * 1000)) ms pull "
                  + "(\(killed.signalled ? "killed" : "had finished, exit \(killed.status)")): held \(partial) rows")
            if killed.signalled && partial < total { interrupted += 1 } else { scale /= 3 }
            let again = try await b.sync(scratch)
            #expect(again.status == 0, "\(again)")
            let held = try b.withReplica { try ScopedState.of($0) }
            #expect(held == expected, "\(b) after the interrupted pull: \(held.difference(from: expected))")
        }
        #expect(interrupted > 0, "no kill landed inside a pull")
        await depot.stop()
    }
}
