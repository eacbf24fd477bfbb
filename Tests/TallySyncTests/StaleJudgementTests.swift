import Foundation
import Testing
import TallyProtocol
import TallyReplica

/// Issue 18, defect 9: the depot held a device's changes for review as stale though the device
/// was never behind. A push delayed on the way (or replayed) carries the cursor the device had
/// when it sent it; if compaction passed that cursor meanwhile, the changes were judged written
/// on an old copy. The depot now judges by the highest cursor the device ever showed.
@Suite struct StaleJudgementTests {
    /// A version vector stored as JSON in a replica's settings.
    static func vector(_ json: String) throws -> VersionVector { try JSONDecoder().decode(VersionVector.self, from: Data(json.utf8)) }

    @Test func aDelayedPushWithAnOldCursorIsNotHeldForReview() async throws {
        let scratch = try Scratch("stale-judgement")
        let depot = try await DepotProcess(scratch)
        let manifest = scratch.path("m.csv")
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", "2026-11-29", "--routes", "R01", "--tickets", "6", "--seed", "3"],
                                        in: scratch)
        try Data(sample.stdout.utf8).write(to: URL(fileURLWithPath: manifest))
        #expect(try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch).status == 0)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R01")
        let b = try await DeviceFile.join(depot, "van-b", route: "R01")
        for d in [a, b] { #expect(try await d.sync(scratch).status == 0) }
        let oldCursor = try a.withReplica { r in try Self.vector(try #require(try r.setting("sync.cursor"))) }

        // The day goes on: the depot's staff note a ticket, both vans sync it, and the depot
        // compacts past van-a's old cursor.
        let ticket = try #require(try a.withReplica { try $0.rows("tickets").first?.key })
        let other = try #require(try a.withReplica { try $0.rows("tickets").last?.key })
        #expect(try await Tool.run(["replica", "write", depot.replicaPath, "tickets", other, "note=调度：下午送"], in: scratch).status == 0)
        for _ in 0..<2 { for d in [a, b] { #expect(try await d.sync(scratch).status == 0) } }
        let compact = try await Tool.run(["depot", "compact", "--data", depot.data, "--json"], in: scratch)
        #expect(compact.status == 0, "\(compact)")
        let horizon = try depot.withReplica { r in try Self.vector(try #require(try r.setting("compact.horizon"))) }
        #expect(DepotCompactionGap.below(oldCursor, horizon), "the horizon passed van-a's old cursor: \(horizon) \(oldCursor)")

        // van-a notes something on a ticket; the push that carries it is sent with the cursor
        // van-a had before (a request held up on the way, as the simulator's proxy does).
        try a.write { tx in try tx.update("tickets", key: ticket, ["note": .text("后门卸货")]) }
        let site = try a.withReplica { $0.site }
        let (changes, schema) = try a.withReplica { r in (try r.ownChanges(after: try a.ack(), limit: 10), r.schema.version) }
        let push = PushRequest(schemaVersion: schema, site: site, changes: changes, cursor: oldCursor)
        let answer = try await HTTP.post(depot.url, "/v1/push", credential: a.credential, body: try WireCodec.encode(push, compress: false),
                                         compressed: false)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json?["held"] == nil, "van-a was never behind: \(answer.text)")
        #expect(try depot.withReplica { try $0.row("tickets", key: ticket)?["note"] } == .text("后门卸货"), "the note merged")
        #expect(try depot.withReplica { try $0.heldCount() } == 0)
        await depot.stop()
    }
}

/// Whether a cursor lies below a horizon for some site (as the depot judges a stale copy).
enum DepotCompactionGap {
    static func below(_ cursor: VersionVector, _ horizon: VersionVector) -> Bool {
        horizon.sorted.contains { cursor[$0.site] < $0.seq }
    }
}
