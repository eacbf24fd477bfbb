import Foundation
import Testing
import TallyReplica

/// `tally depot compact` against a real depot: history goes only below what every device has
/// applied, the state does not change, devices carry on, and a device coming back with an
/// older copy is refused instead of silently missing what was removed.
@Suite struct CompactionTests {
    func json(_ r: Tool.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r)")
    }

    @Test func compactionFreesOnlyWhatEveryDeviceHasAndDevicesCarryOn() async throws {
        let scratch = try Scratch("compact")
        let depot = try await DepotProcess(scratch)
        let manifest = scratch.path("m.csv")
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", "2026-11-29", "--routes", "R01,R02", "--tickets", "8", "--seed", "5"], in: scratch)
        try Data(sample.stdout.utf8).write(to: URL(fileURLWithPath: manifest))
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R01")
        let b = try await DeviceFile.join(depot, "van-b", route: "R02")

        // Joined but never synced: they hold everything back.
        let held = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch))
        #expect((held["freed"] as? [String: Any])?["logEntries"] as? Int == 0)
        #expect(Set(held["neverPulled"] as? [String] ?? []) == ["van-a", "van-b"])

        _ = try writeEvents(a, count: 4, prefix: "EV-a1")
        _ = try writeEvents(b, count: 3, prefix: "EV-b1")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        let oldCopy = scratch.path("van-a-old.sqlite")
        try a.withReplica { try $0.checkpoint() }
        try FileManager.default.copyItem(atPath: a.path, toPath: oldCopy)

        // The depot corrects the manifest: a line of an untouched R01 ticket goes (a tombstone).
        var lines = sample.stdout.split(whereSeparator: \.isNewline).map(String.init)  // CSV lines end in CRLF
        let header = lines.removeFirst()
        let byTicket = Dictionary(grouping: lines.filter { $0.contains(",R01,") }) { $0.split(separator: ",")[2] }
        let multi = try #require(byTicket.first { $0.value.count > 1 }?.value.last)
        try Data(([header] + lines.filter { $0 != multi }).joined(separator: "\r\n").utf8).write(to: URL(fileURLWithPath: manifest))
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        _ = try writeEvents(b, count: 2, prefix: "EV-b2")
        for _ in 0..<2 { for d in [a, b] { #expect(try await d.sync(scratch).status == 0) } }

        let changesBefore = try depot.withReplica { try $0.status().changes }
        let digestBefore = try depot.digest()
        let dry = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--dry-run", "--json"], in: scratch))
        let dryFreed = try #require(dry["freed"] as? [String: Any])
        #expect((dryFreed["logEntries"] as? Int ?? 0) > 0)
        #expect(try depot.withReplica { try $0.status().changes } == changesBefore, "a dry run removes nothing")

        let done = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch))
        let freed = try #require(done["freed"] as? [String: Any])
        #expect(freed["logEntries"] as? Int == dryFreed["logEntries"] as? Int)
        #expect((freed["tombstones"] as? Int ?? 0) >= 1, "the dropped line's tombstone: \(done)")
        #expect(try depot.digest() == digestBefore, "the state is untouched")
        #expect(try depot.withReplica { try $0.status().changes } < changesBefore)
        let again = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch))
        #expect((again["freed"] as? [String: Any])?["logEntries"] as? Int == 0, "nothing more to free")

        // Devices carry on and converge to their scope (live rows: a device keeps its own
        // tombstones, the depot no longer needs the ones it dropped).
        _ = try writeEvents(a, count: 2, prefix: "EV-a2")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        for d in [a, b] {
            let theirs = Set(try depot.withReplica { try ScopedState.of($0, route: d.route) }.rows.filter(\.isLive))
            let mine = Set(try d.withReplica { try ScopedState.of($0, route: d.route) }.rows.filter(\.isLive))
            #expect(mine == theirs, "\(d.name): \(mine.symmetricDifference(theirs).map { "\($0.table)/\($0.key)" }.sorted().prefix(8))")
            #expect(!mine.isEmpty)
        }

        // A device joining after compaction starts from the snapshot and syncs.
        let c = try await DeviceFile.join(depot, "van-c", route: "R02")
        #expect(try await c.sync(scratch).status == 0)
        #expect(try c.withReplica { try $0.rows("events").count } == 5, "van-b's entries on route R02")

        // A copy of van-a from before compaction comes back: refused, not silently short.
        let stale = DeviceFile(name: "van-a", route: "R01", path: oldCopy, credential: a.credential)
        let refused = try await stale.sync(scratch)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("older than the history the depot keeps"), "\(refused.stderr)")
        let log = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        #expect(log.stdout.contains("refused_stale_cursor"))
        await depot.stop()
    }
}
