import Foundation
import Testing
import TallyProtocol
import TallyReplica
import TallyRoutes

/// The protocol over real HTTP: a depot process, requests from URLSession.
@Suite(.timeLimit(.minutes(5)))
struct HTTPTests {
    /// A depot with one joined van on R07 whose first rows are already synced, so the depot's
    /// digest is not the empty one. The depot issued the van one ticket, R07-T1.
    static func depotWithVan(_ scratch: Scratch) async throws -> (DepotProcess, DeviceFile) {
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        try depot.write { tx in
            try tx.insert("tickets", key: "R07-T1", ["route": .text("R07"), "status": .text("planned"), "amount_due": .integer(1250)])
        }
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        try writeEvents(van, count: 5, prefix: "EV-seed")
        let r = try await van.sync(scratch)
        #expect(r.status == 0, "\(r)")
        return (depot, van)
    }

    // MARK: Replay

    @Test func aReplayedPushIsAppliedOnce() async throws {
        let scratch = try Scratch("replay")
        let (depot, van) = try await Self.depotWithVan(scratch)
        try writeEvents(van, count: 20, prefix: "EV-replay")
        try van.write { tx in
            try tx.update("tickets", key: "R07-T1", ["status": .text("loaded")])
            try tx.update("tickets", key: "R07-T1", ["note": .text("前门")])
        }
        let (body, n) = try van.withReplica { r -> ([UInt8], Int) in
            let changes = try r.ownChanges(after: 5, limit: 1_000)
            return (try WireCodec.encode(PushRequest(schemaVersion: r.schema.version, site: r.site, changes: changes), compress: true), changes.count)
        }
        #expect(n == 22)
        var digestAfterFirst = ""
        for attempt in 1...10 {
            let answer = try await HTTP.post(depot.url, "/v1/push", credential: van.credential, body: body, compressed: true)
            try #require(answer.status == 200, "attempt \(attempt): \(answer.status) \(answer.text)")
            let push = try WireCodec.decode(PushResponse.self, from: answer.body, compressed: false)
            if attempt == 1 {
                #expect(push.applied == n && push.duplicates == 0, "first push: \(push)")
                digestAfterFirst = try depot.digest()
            } else {
                #expect(push.applied == 0 && push.duplicates == n, "attempt \(attempt): \(push)")
                #expect(try depot.digest() == digestAfterFirst)
            }
            #expect(push.ack == 27, "attempt \(attempt): \(push)")
            #expect(push.violations.isEmpty)
        }
        #expect(try depot.rows("events").count == 25)
        await depot.stop()
    }

    // MARK: Bad requests

    @Test func badRequestsAreRefusedWithTheDocumentedAnswerAndChangeNothing() async throws {
        let scratch = try Scratch("bad")
        let (depot, van) = try await Self.depotWithVan(scratch)
        let site = try van.withReplica { $0.site }
        let now = SystemWallClock().nowMilliseconds()
        func change(_ table: String, _ key: String, _ values: [String: Value], hlcMs: UInt64 = now, site s: SiteID = site, seq: UInt64 = 6) -> Change {
            Change(table: table, key: key, cl: 1, values: values.map { ColumnValue($0.key, $0.value) },
                   hlc: HLC(milliseconds: hlcMs, counter: 0), site: s, seq: seq)
        }
        func push(_ changes: [Change], protocol p: Int = ProtocolVersion.current, schema: Int = 1, site s: SiteID = site) throws -> [UInt8] {
            var req = PushRequest(schemaVersion: schema, site: s, changes: changes)
            req.protocolVersion = p
            return try WireCodec.encode(req, compress: false)
        }
        let good = try push([change("complaints", "R07-K8", ["route": .text("R07"), "text": .text("good")])])
        let compressed = Deflate.compress(good)

        // A second device, joined then revoked (a lost handheld): its next sync exits 77.
        let lostVan = try await DeviceFile.join(depot, "lost-van", route: "R07")
        let lost = lostVan.credential
        let revoke = try await Tool.run(["depot", "revoke", "lost-van", "--data", depot.data], in: scratch)
        #expect(revoke.status == 0, "\(revoke)")
        let refusedSync = try await lostVan.sync(scratch)
        #expect(refusedSync.status == 77, "\(refusedSync)")
        #expect(refusedSync.stderr.contains("revoked"), "\(refusedSync.stderr)")
        // A credential nobody was given.
        let stranger = "abcdefghjk" + String(repeating: "Q", count: 32)

        var corrupted = compressed
        for i in [corrupted.count / 3, corrupted.count / 2, corrupted.count / 2 + 1] { corrupted[i] ^= 0xA5 }
        let truncated = Array(compressed.prefix(compressed.count / 2))
        let oversized = [UInt8](repeating: UInt8(ascii: " "), count: WireLimits.maxBody + 1024 * 1024)

        struct Case {
            var name: String
            var path = "/v1/push"
            var credential: String?
            var body: [UInt8]
            var compressed = false
            var status: Int
            var code: String
        }
        let cred = van.credential
        let cases: [Case] = [
            Case(name: "corrupted deflate body", credential: cred, body: corrupted, compressed: true, status: 400, code: "bad_encoding"),
            Case(name: "truncated deflate body", credential: cred, body: truncated, compressed: true, status: 400, code: "bad_encoding"),
            Case(name: "not deflate at all", credential: cred, body: good, compressed: true, status: 400, code: "bad_encoding"),
            Case(name: "oversized body", credential: cred, body: oversized, status: 413, code: "too_large"),
            Case(name: "invalid JSON", credential: cred, body: Array(#"{"protocol": 1, "site": "#.utf8), status: 400, code: "bad_request"),
            Case(name: "JSON of the wrong shape", credential: cred, body: Array(#"{"protocol": 1, "schema": 1, "changes": "all of them"}"#.utf8), status: 400, code: "bad_request"),
            Case(name: "a JSON array", credential: cred, body: Array("[]".utf8), status: 400, code: "bad_request"),
            Case(name: "protocol 2", credential: cred, body: try push([], protocol: 2), status: 400, code: "unsupported_protocol"),
            Case(name: "protocol 0", credential: cred, body: try push([], protocol: 0), status: 426, code: "upgrade_required"),
            Case(name: "pull with protocol 0", path: "/v1/pull", credential: cred,
                 body: Array(#"{"protocol": 0, "schema": 1, "cursor": {}, "limit": 10}"#.utf8), status: 426, code: "upgrade_required"),
            Case(name: "a newer schema", credential: cred, body: try push([], schema: RouteSchema.current.version + 1), status: 400, code: "unsupported_protocol"),
            Case(name: "no credential", credential: nil, body: good, status: 401, code: "missing_credential"),
            Case(name: "an unknown credential", credential: stranger, body: good, status: 401, code: "bad_credential"),
            Case(name: "a malformed credential", credential: "short", body: good, status: 401, code: "bad_credential"),
            Case(name: "a revoked credential", credential: lost, body: good, status: 401, code: "credential_revoked"),
            Case(name: "an unknown table", credential: cred,
                 body: try push([change("parcels", "P1", ["route": .text("R07")])]), status: 422, code: "invalid_change"),
            Case(name: "an unknown column", credential: cred,
                 body: try push([change("complaints", "R07-K8", ["route": .text("R07"), "colour": .text("red")])]),
                 status: 422, code: "invalid_change"),
            Case(name: "an unsigned ledger entry", credential: cred,
                 body: try push([change("events", "EV-x", ["route": .text("R07"), "kind": .text("scan"), "device": .text("van-a")])]),
                 status: 403, code: "bad_signature"),
            Case(name: "a wrongly typed value", credential: cred,
                 body: try push([change("complaints", "R07-K9", ["route": .text("R07"), "major": .text("third")])]),
                 status: 422, code: "invalid_change"),
            Case(name: "a status outside the order", credential: cred,
                 body: try push([change("tickets", "R07-T1", ["status": .text("lost")])]), status: 422, code: "invalid_change"),
            Case(name: "a price the order system decides", credential: cred,
                 body: try push([change("tickets", "R07-T1", ["amount_due": .integer(5)])]), status: 403, code: "depot_owned"),
            Case(name: "a ticket the depot never issued", credential: cred,
                 body: try push([change("tickets", "R07-T9", ["route": .text("R07"), "status": .text("planned")])]),
                 status: 403, code: "depot_owned"),
            Case(name: "a clock an hour ahead", credential: cred,
                 body: try push([change("complaints", "R07-K9", ["route": .text("R07"), "text": .text("future")], hlcMs: now + 3_600_000)]),
                 status: 422, code: "clock_drift"),
            Case(name: "another site's changes", credential: cred,
                 body: try push([change("events", "EV-y", ["route": .text("R07")], site: SiteID(high: 1, low: 2), seq: 1)]),
                 status: 403, code: "forbidden"),
            Case(name: "pushing as another replica", credential: cred,
                 body: try push([], site: SiteID(high: 3, low: 4)), status: 403, code: "forbidden"),
            Case(name: "joining a second replica", path: "/v1/join", credential: cred,
                 body: try WireCodec.encode(JoinRequest(site: SiteID(high: 5, low: 6)), compress: false), status: 409, code: "conflict"),
            Case(name: "an unknown path", path: "/v1/nothing", credential: cred, body: good, status: 404, code: "not_found"),
        ]

        let before = try depot.digest()
        for c in cases {
            let answer = try await HTTP.post(depot.url, c.path, credential: c.credential, body: c.body, compressed: c.compressed)
            #expect(answer.status == c.status, "\(c.name): \(answer.status) \(answer.text.prefix(300))")
            let error = answer.error
            #expect(error?.code == c.code, "\(c.name): \(answer.text.prefix(300))")
            let message = error?.message ?? ""
            #expect(message.count > 0, "\(c.name): the error says what happened")
            #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true, "\(c.name): \(answer.headers)")
            #expect(try depot.digest() == before, "\(c.name) changed the depot")
        }
        // The depot is still well: the good push goes through afterwards.
        let ok = try await HTTP.post(depot.url, "/v1/push", credential: cred, body: good, compressed: false)
        #expect(ok.status == 200, "\(ok.text)")
        #expect(try depot.digest() != before)
        await depot.stop()
    }

    @Test func healthAndVersionAnswerWithoutCredential() async throws {
        let scratch = try Scratch("version")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let health = try await HTTP.send("GET", depot.url, "/health")
        #expect(health.status == 200)
        #expect(health.json?["status"] as? String == "ok")
        let version = try await HTTP.send("GET", depot.url, "/version")
        #expect(version.status == 200)
        let info = try WireCodec.decode(VersionInfo.self, from: version.body, compressed: false)
        #expect(info.protocolVersion == ProtocolVersion.current)
        #expect(info.schemaVersion == RouteSchema.current.version)
        #expect(!info.tally.isEmpty)
        await depot.stop()
    }

    // MARK: Scope

    @Test func aVanWritingAnotherRoutesRowsIsRefusedAndAudited() async throws {
        let scratch = try Scratch("scope")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let a = try await DeviceFile.join(depot, "van-a", route: "R07")
        let c = try await DeviceFile.join(depot, "van-c", route: "R08")
        try writeEvents(a, count: 30, prefix: "EV-a")
        try writeEvents(c, count: 20, prefix: "EV-c")
        try depot.write { tx in try tx.insert("tickets", key: "R08-T1", ["route": .text("R08"), "status": .text("planned")]) }
        for d in [a, c, a] {
            let r = try await d.sync(scratch)
            #expect(r.status == 0, "\(d): \(r)")
        }
        // A van never pulls another route's rows.
        let aState = try a.withReplica { try ScopedState.of($0) }
        #expect(aState.rows.allSatisfy { $0["route"].text == "R07" })
        #expect(aState == (try depot.withReplica { try ScopedState.of($0, route: "R07") }))
        let cState = try c.withReplica { try ScopedState.of($0) }
        #expect(cState.rows.allSatisfy { $0["route"].text == "R08" })
        #expect(cState == (try depot.withReplica { try ScopedState.of($0, route: "R08") }))

        // A row naming another route: refused whole, audited, nothing stored.
        let before = try depot.digest()
        let w = try await Tool.run(["replica", "write", a.path, "complaints", "R08-K7", "route=R08", "text=wrong van"], in: scratch)
        #expect(w.status == 0, "\(w)")
        try writeEvents(a, count: 3, prefix: "EV-a-late")  // good rows in the same push are held back too
        let refused = try await a.sync(scratch)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("R08-K7"), "the refusal names the row: \(refused.stderr)")
        #expect(try depot.digest() == before)
        let audit = try await Tool.run(["depot", "audit", "--data", depot.data, "--json"], in: scratch)
        #expect(audit.status == 0, "\(audit)")
        let entries = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.contains { $0["action"] as? String == "refused_write" && $0["device"] as? String == "van-a"
                && ($0["detail"] as? String ?? "").contains("R08-K7") }, "audit: \(audit.stdout)")

        // The same refusal over raw HTTP: 403 out_of_scope; and a row of R08 changed by key
        // alone (no route in the change: the depot's stored row decides).
        let site = try a.withReplica { $0.site }
        let seq = try a.ack() + 1
        let now = SystemWallClock().nowMilliseconds()
        for (name, values) in [("names R08", ["route": Value.text("R08"), "note": .text("x")]), ("updates R08's row", ["note": Value.text("mine now")])] {
            let key = name == "names R08" ? "R08-T8" : "R08-T1"
            let change = Change(table: "tickets", key: key, cl: 1, values: values.map { ColumnValue($0.key, $0.value) },
                                hlc: HLC(milliseconds: now, counter: 0), site: site, seq: seq)
            let body = try WireCodec.encode(PushRequest(schemaVersion: 1, site: site, changes: [change]), compress: true)
            let answer = try await HTTP.post(depot.url, "/v1/push", credential: a.credential, body: body, compressed: true)
            #expect(answer.status == 403, "\(name): \(answer.text)")
            #expect(answer.error?.code == "out_of_scope", "\(name): \(answer.text)")
            let message = answer.error?.message ?? ""
            #expect(message.count > 0)
            #expect(try depot.digest() == before, "\(name)")
        }
        // Reference data (a table with neither a route nor a window column) does not exist in
        // schema 1; ServiceTests covers it with a schema that has one.
        await depot.stop()
    }

    // MARK: Offline

    @Test func syncWhileTheDepotIsDownKeepsChangesAndSaysSo() async throws {
        let scratch = try Scratch("offline")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        let port = depot.port
        await depot.stop()

        try writeEvents(van, count: 3, prefix: "EV-offline")
        let offline = try await Tool.run(["sync", "--replica", van.path], in: scratch)
        #expect(offline.status == 75, "\(offline)")
        let lines = offline.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "one line: \(offline.stderr)")
        #expect(offline.stderr.contains("depot unreachable"), "\(offline.stderr)")
        #expect(offline.stderr.contains("3 changes"), "says how many wait: \(offline.stderr)")
        #expect(try van.ack() == 0)

        try await depot.start(port: port)
        let back = try await van.sync(scratch)
        #expect(back.status == 0, "\(back)")
        #expect(back.summary?["pushed"] as? Int == 3)
        #expect(back.summary?["pending"] as? Int == 0)
        #expect(try depot.rows("events").count == 3)
        await depot.stop()
    }

    @Test func localWritesDuringASyncAreNotLost() async throws {
        let scratch = try Scratch("concurrent")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        let bulk = 8_000
        try writeEvents(van, count: bulk, prefix: "EV-bulk")

        // Write one row at a time, each in its own open/write/close (as the van's app or the CLI
        // would), for as long as the sync runs.
        let running = try van.syncStarting(scratch)
        var written = 0
        let signer = try van.withReplica { try DeviceKey.stored(in: $0) }
        while running.isRunning {
            let key = "EV-live-\(written)"
            try van.write { tx in
                try EventChain.insert(tx, id: key, ["route": .text("R07"), "kind": .text("scan"), "amount": .integer(Int64(written))], key: signer)
            }
            written += 1
            try await Task.sleep(for: .milliseconds(5))
        }
        let during = await running.wait()
        #expect(during.status == 0, "\(during)")
        print("[concurrent] \(written) rows written while the first sync ran (\(String(format: "%.1f", during.seconds)) s)")
        #expect(written > 0)
        let final = try await van.sync(scratch)
        #expect(final.status == 0, "\(final)")
        #expect(final.summary?["pending"] as? Int == 0)
        let events = try depot.rows("events")
        #expect(events.count == bulk + written, "depot holds \(events.count) of \(bulk + written)")
        #expect(try van.ack() == UInt64(bulk + written))
        #expect(try van.withReplica { try ScopedState.of($0) } == (try depot.withReplica { try ScopedState.of($0, route: "R07") }))
        await depot.stop()
    }
}
