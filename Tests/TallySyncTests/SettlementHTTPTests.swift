import Foundation
import Testing
import TallyReconcile
import TallyReplica
import TallyRoutes

/// An accountant's device settling a day over HTTP against a real depot process; other roles
/// are refused and audited.
@Suite(.serialized) struct SettlementHTTPTests {
    @Test func anAccountantSettlesOverHTTPAndAVanIsRefused() async throws {
        let scratch = try Scratch("settle")
        let depot = try await DepotProcess(scratch)
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", "2026-11-28", "--routes", "R01", "--tickets", "2"], in: scratch)
        try sample.stdout.write(toFile: scratch.path("m.csv"), atomically: true, encoding: .utf8)
        #expect(try await Tool.run(["depot", "import-manifest", scratch.path("m.csv"), "--data", depot.data], in: scratch).status == 0)
        try await depot.start(port: 0)
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let accountant = try await depot.enroll("acc-01", role: "accountant")
        #expect(try await van.sync(scratch).status == 0)

        let remote = ["--depot", depot.url, "--credential", accountant]
        let json = try await Tool.run(["reconcile", "--date", "2026-11-28", "--format", "json"] + remote, in: scratch)
        #expect(json.status == 0, "\(json)")
        let rec = try JSONDecoder().decode(Reconciliation.self, from: Data(json.stdout.utf8))
        #expect(rec.settlements.map(\.device) == ["van-01"])
        #expect(rec.settlements.first?.status == .pending)
        // The same figures as on the depot itself.
        await depot.stop()
        let local = try await Tool.run(["reconcile", "--date", "2026-11-28", "--format", "json", "--data", depot.data], in: scratch)
        #expect(try JSONDecoder().decode(Reconciliation.self, from: Data(local.stdout.utf8)) == rec)
        try await depot.start(port: depot.port)

        let pending = try await Tool.run(["settle", "approve", "van-01", "--date", "2026-11-28"] + remote, in: scratch)
        #expect(pending.status == 1 && pending.stderr.contains("has not closed"), "\(pending)")
        let approved = try await Tool.run(["settle", "approve", "van-01", "--date", "2026-11-28", "--unclosed", "--note", "van off the road"] + remote, in: scratch)
        #expect(approved.status == 0 && approved.stdout.contains("approved by acc-01"), "\(approved)")

        let asVan = try await Tool.run(["reconcile", "--date", "2026-11-28", "--depot", depot.url, "--credential", van.credential], in: scratch)
        #expect(asVan.status == 1 && asVan.stderr.contains("only an accountant"), "\(asVan)")
        let audit = try await Tool.run(["depot", "audit", "--data", depot.data, "--json"], in: scratch)
        #expect(audit.stdout.contains("approve") && audit.stdout.contains("settlement request"))
        await depot.stop()
        let away = try await Tool.run(["reconcile", "--date", "2026-11-28"] + remote, in: scratch)
        #expect(away.status == 75 && away.stderr.contains("depot unreachable"), "\(away)")
    }
}
