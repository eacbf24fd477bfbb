import Foundation
import Testing
import TallyReplica
import TallyRoutes

/// The dishonest edit a new user would try: change an amount in the van's SQLite file with the
/// `sqlite3` shell. The next `tally sync` says so and tells the depot; `tally audit verify` at
/// the depot names the entry; the depot kept the signed original.
@Suite struct TamperCLITests {
    @Test func anAmountEditedWithTheSqliteShellIsCaughtAtTheNextSync() async throws {
        let scratch = try Scratch("tamper-cli")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        let keys = try writeEvents(van, count: 5, prefix: "EV-day")
        #expect(try await van.sync(scratch).status == 0)
        // The driver lowers an amount already at the depot, and one not yet synced.
        _ = try writeEvents(van, count: 1, prefix: "EV-late")
        try sqlite(van.path, "UPDATE events SET amount = 1 WHERE id IN ('\(keys[3])', 'EV-late-0')")

        let sync = try await van.sync(scratch)
        #expect(sync.status == 1, "\(sync)")
        #expect(sync.stderr.contains("this device's file was edited after entries were signed"), "\(sync.stderr)")
        #expect(sync.stderr.contains(keys[3]) && sync.stderr.contains("EV-late-0"))
        // The depot holds what was signed, the late entry included (the log carried the original).
        let held = try depot.rows("events").filter { $0.key == keys[3] || $0.key == "EV-late-0" }
        #expect(held.map { $0["amount"].integer } == [3, 0] || held.map { $0["amount"].integer } == [0, 3])

        let verify = try await Tool.run(["audit", "verify", "--data", depot.data], in: scratch)
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdout.contains("ALTERED ON DEVICE  van-a") && verify.stdout.contains(keys[3]), "\(verify.stdout)")
        let json = try await Tool.run(["audit", "verify", "--data", depot.data, "--json"], in: scratch)
        #expect(json.stdout.contains("\"tamper_reported\""))
        await depot.stop()
    }
}
