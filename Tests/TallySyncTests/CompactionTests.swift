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

    /// Writes `csv` less one line of a ticket of `route` with several lines: the next import
    /// deletes that line (a tombstone).
    func dropOneLine(of route: String, from csv: String, into manifest: String) throws {
        var lines = csv.split(whereSeparator: \.isNewline).map(String.init)  // CSV lines end in CRLF
        let header = lines.removeFirst()
        let byTicket = Dictionary(grouping: lines.filter { $0.contains(",\(route),") }) { $0.split(separator: ",")[2] }
        let multi = try #require(byTicket.first { $0.value.count > 1 }?.value.last)
        try Data(([header] + lines.filter { $0 != multi }).joined(separator: "\r\n").utf8).write(to: URL(fileURLWithPath: manifest))
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

        // Joined: each holds the state of its snapshot, so the history below it can go.
        let joined = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--dry-run", "--json"], in: scratch))
        #expect(((joined["freed"] as? [String: Any])?["log_entries"] as? Int ?? 0) > 0, "\(joined)")
        #expect(joined["never_pulled"] as? [String] == [])

        _ = try writeEvents(a, count: 4, prefix: "EV-a1")
        _ = try writeEvents(b, count: 3, prefix: "EV-b1")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        let oldCopy = scratch.path("van-a-old.sqlite")
        try a.withReplica { try $0.checkpoint() }
        try FileManager.default.copyItem(atPath: a.path, toPath: oldCopy)

        // The depot corrects the manifest: a line of an untouched R01 ticket goes (a tombstone).
        try dropOneLine(of: "R01", from: sample.stdout, into: manifest)
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        _ = try writeEvents(b, count: 2, prefix: "EV-b2")
        for _ in 0..<2 { for d in [a, b] { #expect(try await d.sync(scratch).status == 0) } }

        let changesBefore = try depot.withReplica { try $0.status().changes }
        let digestBefore = try depot.digest()
        let dry = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--dry-run", "--json"], in: scratch))
        let dryFreed = try #require(dry["freed"] as? [String: Any])
        #expect((dryFreed["log_entries"] as? Int ?? 0) > 0)
        #expect(try depot.withReplica { try $0.status().changes } == changesBefore, "a dry run removes nothing")

        let done = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch))
        let freed = try #require(done["freed"] as? [String: Any])
        #expect(freed["log_entries"] as? Int == dryFreed["log_entries"] as? Int)
        #expect((freed["tombstones"] as? Int ?? 0) >= 1, "the dropped line's tombstone: \(done)")
        #expect(try depot.digest() == digestBefore, "the state is untouched")
        #expect(try depot.withReplica { try $0.status().changes } < changesBefore)
        let again = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch))
        #expect((again["freed"] as? [String: Any])?["log_entries"] as? Int == 0, "nothing more to free")

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

        // A copy of van-a from before compaction comes back: the depot holds more of van-a
        // than the copy, so before anything is pushed or pulled it is set up again from the
        // depot under a new identity, with all it recorded.
        let stale = DeviceFile(name: "van-a", route: "R01", path: oldCopy, credential: a.credential)
        let rebased = try await stale.sync(scratch)
        #expect(rebased.status == 0, "\(rebased)")
        #expect((rebased.summary?["recovered"] as? [String: Any])?["reason"] as? String == "file_went_back", "\(rebased.stdout)")
        let log = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        #expect(log.stdout.contains("device_recovered"))
        #expect(try stale.withReplica { try $0.rows("events").count } == 6, "the two entries written after the copy was taken are back")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("")).contains { $0.hasPrefix("van-a-old.sqlite.before-recovery-") },
                "the previous file is kept")
        await depot.stop()
    }

    /// A van away for days does not hold compaction back when the operator says so. When it
    /// comes back, its entries count, its other changes made meanwhile are held for review
    /// (not merged, not lost), it is set up again from the depot, and a released change
    /// reaches it like any depot change.
    @Test func aDeviceAwayIsSetAsideAndItsStaleWritesAreHeldForReview() async throws {
        let scratch = try Scratch("compact-away")
        let depot = try await DepotProcess(scratch)
        let manifest = scratch.path("m.csv")
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", "2026-11-29", "--routes", "R01,R02", "--tickets", "6", "--seed", "9"], in: scratch)
        try Data(sample.stdout.utf8).write(to: URL(fileURLWithPath: manifest))
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R01")
        let b = try await DeviceFile.join(depot, "van-b", route: "R01")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        let ticket = try #require(try a.withReplica { try $0.rows("tickets").first?.key })

        // van-a goes away (its last sync four days ago); the depot and van-b carry on.
        try sqlite((depot.data as NSString).appendingPathComponent("registry.sqlite"),
                   "UPDATE devices SET last_sync_at = '2026-11-01T08:00:00.000Z' WHERE name = 'van-a'")
        try dropOneLine(of: "R01", from: sample.stdout, into: manifest)
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        _ = try writeEvents(b, count: 3, prefix: "EV-b")
        for _ in 0..<2 { #expect(try await b.sync(scratch).status == 0) }

        let waited = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--dry-run", "--json"], in: scratch))
        let passed = try json(try await Tool.run(["depot", "compact", "--data", depot.data, "--set-aside-after", "2", "--json"], in: scratch))
        #expect(passed["set_aside"] as? [String] == ["van-a"], "\(passed)")
        #expect(((passed["freed"] as? [String: Any])?["log_entries"] as? Int ?? 0)
                    > ((waited["freed"] as? [String: Any])?["log_entries"] as? Int ?? 0),
                "van-a held part of the history back: \(waited) \(passed)")

        // Meanwhile, offline, van-a delivered (an entry) and noted something on a ticket (a record change).
        _ = try writeEvents(a, count: 2, prefix: "EV-a")
        try a.write { tx in try tx.update("tickets", key: ticket, ["note": .text("门卫说老板不在，放在后门")]) }
        let back = try await a.sync(scratch)
        #expect(back.status == 0, "\(back)")
        #expect(back.summary?["rebaselined"] != nil, "\(back.stdout)")
        #expect(back.summary?["held"] as? Int == 1, "\(back.stdout)")
        #expect(try depot.withReplica { r in try r.rows("events").filter { $0.key.hasPrefix("EV-a") }.count } == 2, "the entries count")
        #expect(try depot.withReplica { try $0.row("tickets", key: ticket)?["note"] } != .text("门卫说老板不在，放在后门"), "the note is not merged")
        let list = try await Tool.run(["depot", "quarantine", "list", "--data", depot.data, "--json"], in: scratch)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list)")
        #expect(items.count == 1 && items.first?["device"] as? String == "van-a" && items.first?["key"] as? String == ticket, "\(items)")
        let table = try await Tool.run(["depot", "quarantine", "list", "--data", depot.data], in: scratch)
        #expect(table.stdout.contains("门卫说老板不在"), "\(table.stdout)")

        // Set up again: van-a holds exactly the depot's R01 rows, with van-b's entries and its own.
        let scoped = { (r: Replica) in Set(try ScopedState.of(r, route: "R01").rows.filter(\.isLive)) }
        #expect(try a.withReplica(scoped) == (try depot.withReplica(scoped)))
        #expect(try a.withReplica { try $0.rows("events").count } == 5)

        // The depot staff release the note: it reaches van-a as the depot's change.
        let id = try #require(items.first?["id"] as? String)
        #expect(try await Tool.run(["depot", "quarantine", "release", id, "--data", depot.data], in: scratch).status == 0)
        #expect(try depot.withReplica { try $0.row("tickets", key: ticket)?["note"] } == .text("门卫说老板不在，放在后门"))
        #expect(try depot.withReplica { try $0.heldCount() } == 0)
        #expect(try await a.sync(scratch).status == 0)
        #expect(try a.withReplica { try $0.row("tickets", key: ticket)?["note"] } == .text("门卫说老板不在，放在后门"))
        #expect(try a.withReplica(scoped) == (try depot.withReplica(scoped)))
        let audit = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        for action in ["held_for_review", "quarantine_released", "refused_stale_cursor"] { #expect(audit.stdout.contains(action), "\(action)") }
        let unknown = try await Tool.run(["depot", "quarantine", "discard", "nope:1", "--data", depot.data], in: scratch)
        #expect(unknown.status != 0 && unknown.stderr.contains("tally depot quarantine list"), "\(unknown)")
        await depot.stop()
    }
}
