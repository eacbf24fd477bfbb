import Foundation
import Testing
import TallyReplica

/// A backup taken while the depot serves, restored after the depot has moved on: devices push
/// what the restored depot lacks, and nothing is lost or doubled. A damaged backup changes
/// nothing.
@Suite(.serialized) struct BackupTests {
    @Test func restoringAnOlderBackupLosesNothing() async throws {
        let scratch = try Scratch("backup")
        let depot = try await DepotProcess(scratch)
        try await depot.start(port: 0)
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        let other = try await DeviceFile.join(depot, "van-b", route: "R07")
        let first = try writeEvents(van, count: 5, prefix: "EV-before")
        #expect(try await van.sync(scratch).status == 0)

        // Backed up while serving.
        let file = scratch.path("depot.tallybackup")
        let backup = try await Tool.run(["depot", "backup", "--data", depot.data, "--out", file], in: scratch)
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("depot.sqlite") && backup.stdout.contains("registry.sqlite"))
        let again = try await Tool.run(["depot", "backup", "--data", depot.data, "--out", file], in: scratch)
        #expect(again.status == 1 && again.stderr.contains("already exists"))

        let later = try writeEvents(van, count: 5, prefix: "EV-after")
        #expect(try await van.sync(scratch).status == 0)
        #expect(try depot.rows("events").count == 10)
        await depot.stop()

        // A damaged or truncated backup is refused and changes nothing.
        let digest = try depot.digest()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: scratch.path("damaged.tallybackup")))
        let damaged = try await Tool.run(["depot", "restore", scratch.path("damaged.tallybackup"), "--data", depot.data, "--replace"], in: scratch)
        #expect(damaged.status == 1 && damaged.stderr.contains("damaged"), "\(damaged)")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: scratch.path("short.tallybackup")))
        let short = try await Tool.run(["depot", "restore", scratch.path("short.tallybackup"), "--data", depot.data, "--replace"], in: scratch)
        #expect(short.status == 1 && short.stderr.contains("truncated"), "\(short)")
        #expect(try depot.digest() == digest)

        // The real one: refused over a depot without --replace, then restored.
        let refused = try await Tool.run(["depot", "restore", file, "--data", depot.data], in: scratch)
        #expect(refused.status == 1 && refused.stderr.contains("--replace"))
        let restored = try await Tool.run(["depot", "restore", file, "--data", depot.data, "--replace"], in: scratch)
        #expect(restored.status == 0, "\(restored)")
        #expect(try Set(depot.rows("events").map(\.key)) == Set(first), "the depot is back to the backup")
        #expect(try FileManager.default.contentsOfDirectory(atPath: depot.data).contains { $0.hasPrefix("depot.sqlite.before-restore-") })

        // The van notices the depot lost its later pushes and sends them again; the other van gets everything.
        try await depot.start(port: depot.port)
        #expect(try await van.sync(scratch).status == 0)
        #expect(try await van.sync(scratch).status == 0)
        let held = try depot.rows("events").map(\.key)
        #expect(held.count == 10 && Set(held) == Set(first + later), "nothing lost, nothing doubled: \(held.count)")
        #expect(try await other.sync(scratch).status == 0)
        #expect(try other.withReplica { try $0.rows("events").count } == 10)
        await depot.stop()
    }
}
