import Foundation
import Testing
import TallyProtocol
import TallyReplica
import TallyRoutes

/// A depot under more requests than it takes at once, and pulls through its owner index.
@Suite(.timeLimit(.minutes(5)))
struct LoadTests {
    /// With room for one request at a time, a crowd of pushes gets `503 busy` with `Retry-After`
    /// and nothing is done for them; vans syncing at once wait as asked and send again, and
    /// the depot ends with every change once.
    @Test func aBusyDepotAnswers503WithRetryAfterAndVansRetryWithoutLoss() async throws {
        let scratch = try Scratch("busy")
        let depot = try await DepotProcess(scratch)
        try await depot.start(extra: ["--max-in-flight", "1"])
        let routes = ["R01", "R02", "R03"]
        var vans: [DeviceFile] = []
        for (k, route) in (routes + routes).enumerated() {
            vans.append(try await DeviceFile.join(depot, "van-\(k)", route: route))
        }

        // 1. Raw: 24 pushes of one van's 1,500 changes at once. Each is answered 200 (applied
        // once, then duplicates) or 503 busy with Retry-After and the documented error body.
        let first = vans[0]
        _ = try writeEvents(first, count: 1_500, prefix: "EV-raw")
        let body = try first.withReplica { r in
            try WireCodec.encode(PushRequest(schemaVersion: r.schema.version, site: r.site, changes: try r.ownChanges(after: 0, limit: 5_000)), compress: true)
        }
        let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for _ in 0..<24 {
                group.addTask { try await HTTP.post(depot.url, "/v1/push", credential: first.credential, body: body, compressed: true) }
            }
            var out: [HTTPAnswer] = []
            for try await a in group { out.append(a) }
            return out
        }
        let busy = answers.filter { $0.status == 503 }
        let ok = answers.filter { $0.status == 200 }
        #expect(busy.count + ok.count == answers.count, "\(answers.map(\.status))")
        #expect(!busy.isEmpty, "24 pushes at once on a depot that takes one: some must be shed")
        #expect(!ok.isEmpty)
        for b in busy {
            #expect(b.headers["retry-after"].flatMap(Int.init) ?? 0 >= 1, "\(b.headers)")
            #expect(WireCodec.decodeError(b.body, status: 503)?.code == "busy", "\(b.text)")
        }
        let applied = try ok.map { try WireCodec.decode(PushResponse.self, from: $0.body, compressed: false) }
        #expect(applied.reduce(0) { $0 + $1.applied } == 1_500, "each change applied once: \(applied.map(\.applied))")
        #expect(applied.allSatisfy { $0.ack == 1_500 })

        // 2. Vans syncing at once through `tally sync`, which honours Retry-After.
        var written: [String: [String]] = [:]
        for (k, van) in vans.enumerated() {
            written[van.name] = try writeEvents(van, count: 800 + 100 * k, prefix: "EV-\(van.name)")
        }
        let runs = try vans.map { try $0.syncStarting(scratch) }
        for (van, run) in zip(vans, runs) {
            let r = await run.wait(timeout: 240)
            #expect(r.status == 0, "\(van): \(r)")
        }
        // Once more one by one, so that each van also pulls what the other van of its route
        // pushed while it was pulling.
        for van in vans {
            let r = try await van.sync(scratch)
            #expect(r.status == 0, "\(van): \(r)")
        }
        let log = depot.server?.stderr ?? ""
        #expect(log.contains("busy: requests shed"), "the depot should have shed some requests")
        // Every change once at the depot; every van holds exactly its route.
        let events = try depot.rows("events")
        let keys = events.map(\.key)
        #expect(Set(keys).count == keys.count)
        for van in vans {
            let expected = Set(written[van.name] ?? [])
            #expect(expected.isSubset(of: Set(keys)), "\(van): the depot lacks some of its events")
            #expect(try van.ack() == van.localSeq(), "\(van) is fully acknowledged")
        }
        let total = written.values.reduce(0) { $0 + $1.count } + 1_500
        #expect(events.count == total)
        for van in vans {
            let held = try van.withReplica { try $0.rows("events", includeDeleted: true) }
            let foreign = held.filter { $0["route"].text != van.route }
            #expect(foreign.isEmpty, "\(van) received rows of other routes: \(foreign.prefix(3))")
            let sameRoute = Set(events.filter { $0["route"].text == van.route }.map(\.key))
            #expect(Set(held.map(\.key)) == sameRoute, "\(van) holds exactly its route's events")
        }
        await depot.stop()
    }
}
