import Foundation
import Testing
import TallyReplica
import TallyRoutes

/// What happens when a file goes back in time, at the depot or on a device, or a device's clock
/// runs ahead: one plain `tally sync` makes both sides whole again, nothing recorded is lost or
/// counted twice, and the depot's audit says what happened.
@Suite struct RecoveryTests {
    /// Issue 18, defect 1: a depot restored from an older backup. One sync per device leaves it
    /// holding everything the device holds, blobs included, and says so.
    @Test func oneSyncAfterADepotRestoreSendsEverythingAgainBlobsIncluded() async throws {
        let scratch = try Scratch("recover-depot")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R07")
        let b = try await DeviceFile.join(depot, "van-b", route: "R07")
        let before = try writeEvents(a, count: 3, prefix: "EV-a-before")
        let early = try a.withReplica { try $0.putBlob(Array("signature before the backup".utf8)) }
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        let file = scratch.path("depot.tallybackup")
        #expect(try await Tool.run(["depot", "backup", "--data", depot.data, "--out", file], in: scratch).status == 0)
        let siteBefore = try depot.withReplica { $0.site }

        // The day goes on after the backup: entries and signature images of both vans.
        let after = try writeEvents(a, count: 4, prefix: "EV-a-after")
        let late = try a.withReplica { r in try (0..<3).map { try r.putBlob(Array("signature \($0) after the backup".utf8)) } }
        let other = try writeEvents(b, count: 2, prefix: "EV-b-after")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        await depot.stop()
        #expect(try await Tool.run(["depot", "restore", file, "--data", depot.data, "--replace"], in: scratch).status == 0)
        #expect(try Set(depot.rows("events").map(\.key)) == Set(before))
        try await depot.start(port: depot.port)

        // One sync each.
        let syncA = try await a.sync(scratch)
        #expect(syncA.status == 0, "\(syncA)")
        #expect(syncA.summary?["depot_restored"] as? Bool == true, "\(syncA.stdout)")
        #expect(syncA.summary?["depot_holds_all"] as? Bool == true, "\(syncA.stdout)")
        #expect(try await b.sync(scratch).status == 0)
        let held = try depot.rows("events").map(\.key)
        #expect(held.count == 9 && Set(held) == Set(before + after + other), "nothing lost, nothing doubled: \(held.sorted())")
        for hash in [early] + late {
            #expect(try depot.withReplica { try $0.hasBlob(hash) }, "the depot holds blob \(hash.prefix(12)) again")
        }
        // The restored depot writes under a new identity: its next writes never reuse numbers
        // the vans already hold from the depot it replaces.
        #expect(try depot.withReplica { $0.site } != siteBefore)
        let text = try await Tool.run(["sync", "--replica", a.path], in: scratch)
        #expect(text.stdout.contains("the depot holds every change and image of this device"), "\(text.stdout)")
        let verify = try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch)
        #expect(verify.status == 0, "\(verify)")
        await depot.stop()
    }

    /// Issue 18, defect 2: a van's file put back to an older copy of itself after a sync, then
    /// used again. The depot never takes the new entry for a duplicate; the van takes a new
    /// identity, gets back what the depot held, sends its new entry, and the chain stays whole.
    @Test func aDeviceFileThatWentBackLosesNothing() async throws {
        let scratch = try Scratch("recover-file")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        _ = try writeEvents(van, count: 2, prefix: "EV-start")
        #expect(try await van.sync(scratch).status == 0)
        let copy = scratch.path("van-a-copy.sqlite")
        try sqlite(van.path, ".backup \(copy)")

        let depositA = try deposit(van, "EV-deposit-A", 100_000)
        #expect(try await van.sync(scratch).status == 0)
        // The handheld is restored from its own backup, and the driver records another deposit.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: van.path + suffix) }
        try FileManager.default.removeItem(atPath: van.path)
        try FileManager.default.copyItem(atPath: copy, toPath: van.path)
        let depositB = try deposit(van, "EV-deposit-B", 200_000)

        let sync = try await van.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        let recovered = try #require(sync.summary?["recovered"] as? [String: Any], "\(sync.stdout)")
        #expect(recovered["reason"] as? String == "file_went_back" && recovered["replayed"] as? Int == 1, "\(recovered)")
        #expect(sync.summary?["depot_holds_all"] as? Bool == true, "\(sync.stdout)")
        let keys = Set(try depot.rows("events").map(\.key))
        #expect(keys.isSuperset(of: depositA + depositB), "both deposits reach the depot: \(keys.sorted())")
        #expect(try van.withReplica { Set(try $0.rows("events").map(\.key)) } == keys, "the van holds deposit A again")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("")).contains { $0.hasPrefix("van-a.sqlite.before-recovery-") })

        // The chain at the depot is one line: deposit B was sealed after deposit A.
        let verify = try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch)
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("SET UP AGAIN") && verify.stdout.contains("NUMBER REUSED"), "explained: \(verify.stdout)")
        let audit = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        #expect(audit.stdout.contains("sequence_reused") && audit.stdout.contains("device_recovered"), "\(audit.stdout)")
        // Both deposits are in the day's books, and the day says what happened.
        let books = try await settlement(of: "van-a", depot, scratch)
        #expect(books.cash["deposited"] as? String == "3000.00", "\(books.cash)")
        #expect(books.kinds.contains("device_recovered"), "\(books.kinds)")

        // The van carries on under its new identity.
        let later = try writeEvents(van, count: 2, prefix: "EV-later")
        let again = try await van.sync(scratch)
        #expect(again.status == 0 && again.summary?["recovered"] == nil, "\(again)")
        #expect(Set(try depot.rows("events").map(\.key)).isSuperset(of: later))
        #expect(try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch).status == 0)
        await depot.stop()
    }

    /// The copy put back before any new entry: the depot holds more of the van than its file.
    /// The van gets back what it lost and goes on numbering past it.
    @Test func aFileGoneBackWithNothingNewGetsBackWhatItLost() async throws {
        let scratch = try Scratch("recover-behind")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        #expect(try await van.sync(scratch).status == 0)
        let copy = scratch.path("copy.sqlite")
        try sqlite(van.path, ".backup \(copy)")
        let lost = try writeEvents(van, count: 3, prefix: "EV-lost")
        #expect(try await van.sync(scratch).status == 0)
        try FileManager.default.removeItem(atPath: van.path)
        try FileManager.default.copyItem(atPath: copy, toPath: van.path)

        let sync = try await van.sync(scratch)
        #expect(sync.status == 0 && sync.summary?["recovered"] != nil, "\(sync)")
        #expect(try van.withReplica { Set(try $0.rows("events").map(\.key)) } == Set(lost))
        _ = try writeEvents(van, count: 1, prefix: "EV-next")
        #expect(try await van.sync(scratch).status == 0)
        #expect(try depot.rows("events").count == 4)
        #expect(try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch).status == 0)
        await depot.stop()
    }

    /// Issue 18, defect 4: a clock set ahead. Far ahead after a sync, nothing is recorded; a few
    /// days ahead, the entry is recorded, and once the clock is right one sync gets the device
    /// going again with the entry at the depot and the device's clock back to today. While the
    /// clock is still wrong, the sync says so and sends nothing.
    @Test func aClockAheadNeverWedgesTheDevice() async throws {
        let scratch = try Scratch("recover-clock")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        #expect(try await van.sync(scratch).status == 0)
        let write = { (key: String, now: String) async throws -> Tool.Result in
            try await Tool.run(["replica", "write", van.path, "events", key, "route=R07", "kind=vehicle_check", "device=van-a",
                                "amount=0", "at=\(now)"], in: scratch, env: ["TALLY_NOW": now])
        }
        let far = try await write("EV-2030", "2030-01-01T09:00:00+08:00")
        #expect(far.status == 1 && far.stderr.contains("set the device's date and time right"), "\(far)")
        #expect(try van.withReplica { try $0.row("events", key: "EV-2030") } == nil, "nothing recorded")

        let soon = IsoTime.format(UInt64(Date().timeIntervalSince1970 * 1000) + 3 * 86_400_000, offsetMinutes: 480)
        #expect(try await Tool.run(["replica", "write", van.path, "events", "EV-ahead", "route=R07", "kind=deposit", "device=van-a",
                                    "amount=5000", "ref=BANK-1", "day=\(Self.today)", "at=\(soon)"],
                                   in: scratch, env: ["TALLY_NOW": soon]).status == 0)
        let stillWrong = try await Tool.run(["sync", "--replica", van.path], in: scratch, env: ["TALLY_NOW": soon])
        #expect(stillWrong.status == 1 && stillWrong.stderr.contains("days ahead of the depot's"), "\(stillWrong)")

        let sync = try await van.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        #expect((sync.summary?["recovered"] as? [String: Any])?["reason"] as? String == "clock_ahead", "\(sync.stdout)")
        #expect(try depot.withReplica { try $0.row("events", key: "EV-ahead") } != nil, "the entry reached the depot")
        let clock = try van.withReplica { try $0.clockValue() }.milliseconds
        #expect(clock < UInt64(Date().timeIntervalSince1970 * 1000) + 60_000, "the van's clock is back to today")
        _ = try writeEvents(van, count: 1, prefix: "EV-today")
        #expect(try await van.sync(scratch).status == 0)
        #expect(try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch).status == 0)
        // The entry counts; its time is flagged, and the day says the van was set up again.
        let books = try await settlement(of: "van-a", depot, scratch)
        #expect(books.cash["deposited"] as? String == "50.00", "\(books.cash)")
        #expect(books.kinds.contains("clock_suspect") && books.kinds.contains("device_recovered"), "\(books.kinds)")
        await depot.stop()
    }

    /// Today's business date, Beijing time.
    static var today: String { String(IsoTime.format(UInt64(Date().timeIntervalSince1970 * 1000)).prefix(10)) }

    /// A signed deposit entry of today on the device; returns its key (as a one-element list).
    func deposit(_ device: DeviceFile, _ key: String, _ fen: Int64) throws -> [String] {
        let signer = try device.withReplica { try DeviceKey.stored(in: $0) }
        try device.write { tx in
            try EventChain.insert(tx, id: key, ["route": .text(device.route), "kind": .text("deposit"), "amount": .integer(fen),
                                                "ref": .text("BANK-\(key)"), "device": .text(device.name), "day": .text(Self.today),
                                                "at": .text(IsoTime.format(UInt64(Date().timeIntervalSince1970 * 1000)))], key: signer)
        }
        return [key]
    }

    /// A device's settlement of today through `tally reconcile --format json`: its cash figures
    /// and the kinds of its exceptions.
    func settlement(of device: String, _ depot: DepotProcess, _ scratch: Scratch) async throws -> (cash: [String: Any], kinds: [String]) {
        let r = try await Tool.run(["reconcile", "--data", depot.data, "--date", Self.today, "--format", "json"], in: scratch)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r)")
        let all = json["settlements"] as? [[String: Any]] ?? []
        let mine = try #require(all.first { $0["device"] as? String == device }, "\(r.stdout)")
        let kinds = (mine["exceptions"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        return (mine["cash"] as? [String: Any] ?? [:], kinds)
    }
}
