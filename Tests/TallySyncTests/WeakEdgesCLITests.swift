import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// Issue 18, defect 8, against a real depot process: a device that registered no signing key
/// writes no entries the books count; a device reads only the images its own rows name; a pull
/// cursor no depot gave is refused (or, after a restore, lowered), never stored.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WeakEdgesCLITests {
    static func registry(_ depot: DepotProcess) throws -> DeviceRegistry {
        try DeviceRegistry(path: depot.data + "/registry.sqlite", clock: SystemWallClock())
    }

    static func bearer(_ credential: String) -> [String: String] { ["Authorization": "Bearer \(credential)"] }

    @Test func entriesFromADeviceWithoutASigningKeyAreRefused() async throws {
        let scratch = try Scratch("unsigned")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let credential = try await depot.enroll("van-01", route: "R01")
        // A client of its own that joins without a key, then pushes a cash entry.
        let local = try Replica.create(at: scratch.path("rogue.sqlite"), schema: RouteSchema.current, options: .quiet())
        let join = try await HTTP.post(depot.url, "/v1/join", credential: credential,
                                       body: try WireCodec.encode(JoinRequest(site: local.site), compress: false), compressed: false)
        #expect(join.status == 200, "\(join.text)")
        try local.write { tx in
            try tx.insert("events", key: "EV-rogue-1", ["route": .text("R01"), "kind": .text("deliver"), "ticket": .text("R01-T1"),
                                                       "amount": .integer(100_000), "device": .text("van-01"), "day": .text("2026-11-28")])
        }
        let push = PushRequest(schemaVersion: RouteSchema.current.version, site: local.site, changes: try local.ownChanges(after: 0, limit: 10))
        let answer = try await HTTP.post(depot.url, "/v1/push", credential: credential, body: try WireCodec.encode(push, compress: false),
                                         compressed: false)
        #expect(answer.status == 403 && answer.error?.code == "bad_signature", "\(answer.status) \(answer.text)")
        #expect(answer.error?.message.contains("registered no signing key") == true, "\(answer.text)")
        #expect(try depot.withReplica { try $0.row("events", key: "EV-rogue-1") } == nil, "nothing stored, nothing counted")
        #expect(try Self.registry(depot).auditLog().contains { $0.action == "refused_signature" && $0.device == "van-01" })
        let rec = try await Tool.run(["reconcile", "--data", depot.data, "--date", "2026-11-28", "--format", "json"], in: scratch)
        #expect(rec.status == 0 && !rec.stdout.contains("EV-rogue-1"), "\(rec)")
        await depot.stop()
    }

    @Test func aDeviceReadsOnlyTheImagesItsOwnRowsName() async throws {
        let scratch = try Scratch("blob-scope")
        let (depot, van1, ticket, _) = try await OwnedByDepotCLITests.day(scratch)
        let delivered = try await OwnedByDepotCLITests.deliver(van1, ticket.ticket, cash: ticket.amountDue, scratch)
        #expect(delivered.status == 0, "\(delivered)")
        #expect(try await van1.sync(scratch).status == 0)
        let signature = OwnedByDepotCLITests.signatureImage(ticket.ticket)  // what `deliver` signed with
        let hash = BlobHash.sha256Hex(signature)
        #expect(try depot.withReplica { try $0.hasBlob(hash) })

        let van2 = try await DeviceFile.join(depot, "van-02", route: "R02")
        let accountant = try await depot.enroll("acc-01", role: "accountant")
        let stranger = try await HTTP.send("GET", depot.url, "/v1/blobs/\(hash)", headers: Self.bearer(van2.credential))
        #expect(stranger.status == 404 && stranger.error?.code == "not_found", "another route's van: \(stranger.status) \(stranger.text)")
        #expect(!stranger.body.starts(with: [0x89, 0x50]))
        let own = try await HTTP.send("GET", depot.url, "/v1/blobs/\(hash)", headers: Self.bearer(van1.credential))
        #expect(own.status == 200 && own.body == signature, "the delivering van")
        let books = try await HTTP.send("GET", depot.url, "/v1/blobs/\(hash)", headers: Self.bearer(accountant))
        #expect(books.status == 200 && books.body == signature, "an accountant")
        #expect(try Self.registry(depot).auditLog().contains { $0.action == "refused_blob_read" && $0.device == "van-02" })
        await depot.stop()
    }

    @Test func aCursorNoDepotGaveIsNeverTaken() async throws {
        let scratch = try Scratch("cursor")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R07")
        let b = try await DeviceFile.join(depot, "van-b", route: "R07")
        try writeEvents(a, count: 5, prefix: "EV-a")
        #expect(try await a.sync(scratch).status == 0)
        #expect(try await b.sync(scratch).status == 0)
        let hello = try await HTTP.send("GET", depot.url, "/v1/hello", headers: Self.bearer(b.credential))
        let epoch = try #require(hello.json?["epoch"] as? String)
        let siteA = try a.withReplica { $0.site }
        let nowhere = SiteID.random()
        let inflated = VersionVector([siteA: 1_000_000, nowhere: 77])
        func pull(_ epoch: String?) async throws -> HTTPAnswer {
            let body = try WireCodec.encode(PullRequest(schemaVersion: RouteSchema.current.version, cursor: inflated, limit: 100, epoch: epoch),
                                            compress: false)
            return try await HTTP.post(depot.url, "/v1/pull", credential: b.credential, body: body, compressed: false)
        }
        let registry = try Self.registry(depot)
        let shownBefore = try registry.highestCursor(of: "van-b")

        // Under the depot's own epoch: no depot gave it. Refused, audited, not stored.
        let refused = try await pull(epoch)
        #expect(refused.status == 409 && refused.error?.code == "impossible_cursor", "\(refused.status) \(refused.text)")
        #expect(try registry.auditLog().contains { $0.action == "refused_cursor" && $0.device == "van-b" })
        #expect(try registry.highestCursor(of: "van-b") == shownBefore)

        // Without an epoch (or after a restore): lowered to what the depot holds, served from there.
        let lowered = try await pull(nil)
        #expect(lowered.status == 200, "\(lowered.text)")
        let page = try WireCodec.decode(PullResponse.self, from: lowered.body, compressed: false)
        #expect(page.cursor[siteA] == 5 && page.cursor[nowhere] == 0, "\(page.cursor)")
        let shown = try #require(try registry.highestCursor(of: "van-b"))
        #expect(shown[siteA] <= 5 && shown[nowhere] == 0, "the registry keeps only what the depot holds: \(shown)")

        // A device whose file claims such a cursor syncs on: the refusal is answered by pulling
        // from what the depot holds, and the device ends with everything.
        try b.withReplica { r in
            try r.setSettings(["sync.cursor": String(decoding: try JSONEncoder().encode(VersionVector([nowhere: 9])), as: UTF8.self),
                               "sync.cursor_epoch": epoch])
        }
        try writeEvents(a, count: 2, prefix: "EV-a-more")
        #expect(try await a.sync(scratch).status == 0)
        let synced = try await b.sync(scratch)
        #expect(synced.status == 0, "\(synced)")
        #expect(try b.withReplica { try $0.rows("events").count } == 7, "nothing skipped")
        #expect(try registry.highestCursor(of: "van-b")?[nowhere] == 0)
        await depot.stop()
    }
}
