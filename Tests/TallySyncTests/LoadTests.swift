import Foundation
import Testing
import TallyProtocol
import TallyReplica
import TallyRoutes
import TallySync
@testable import TallyDepot
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
        let answers = try await Self.pushAtOnce(24, body, to: depot, credential: first.credential)
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
        // The depot's one place is taken by a push whose body has not arrived yet, so every
        // sync's first request is answered 503 busy until it is released.
        let holder = try SlotHolder(port: depot.port, credential: first.credential)
        try await Task.sleep(for: .milliseconds(300))
        let runs = try vans.map { try $0.syncStarting(scratch) }
        try await Task.sleep(for: .seconds(2))
        holder.release()
        var retries = 0
        for (van, run) in zip(vans, runs) {
            let r = await run.wait(timeout: 240)
            #expect(r.status == 0, "\(van): \(r)")
            let summary = try? cliJSON.decode(SyncSummary.self, from: Data(r.stdout.utf8))
            retries += summary?.busyRetries ?? 0
        }
        #expect(retries >= vans.count, "each sync waited at least once on the busy depot: \(retries) retries")
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

extension LoadTests {
    /// With room to work on one request at a time but to admit many, a crowd of pushes waits
    /// its turn instead of being shed: every one is answered 200 and each change is applied once.
    @Test func requestsPastTheWorkingLimitWaitTheirTurn() async throws {
        let scratch = try Scratch("slots")
        let depot = try await DepotProcess(scratch)
        try await depot.start(extra: ["--max-working", "1"])
        let van = try await DeviceFile.join(depot, "van-0", route: "R01")
        _ = try writeEvents(van, count: 1_500, prefix: "EV-slot")
        let body = try van.withReplica { r in
            try WireCodec.encode(PushRequest(schemaVersion: r.schema.version, site: r.site, changes: try r.ownChanges(after: 0, limit: 5_000)), compress: true)
        }
        let answers = try await Self.pushAtOnce(24, body, to: depot, credential: van.credential)
        #expect(answers.allSatisfy { $0.status == 200 }, "\(answers.map(\.status))")
        let applied = try answers.map { try WireCodec.decode(PushResponse.self, from: $0.body, compressed: false) }
        #expect(applied.reduce(0) { $0 + $1.applied } == 1_500, "each change applied once: \(applied.map(\.applied))")
        #expect(try depot.rows("events").count == 1_500)
        await depot.stop()
    }

    /// The same push body sent `count` times at once.
    static func pushAtOnce(_ count: Int, _ body: [UInt8], to depot: DepotProcess, credential: String) async throws -> [HTTPAnswer] {
        try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for _ in 0..<count {
                group.addTask { try await HTTP.post(depot.url, "/v1/push", credential: credential, body: body, compressed: true) }
            }
            var out: [HTTPAnswer] = []
            for try await a in group { out.append(a) }
            return out
        }
    }

    /// The slots themselves: never more at work than the limit, and every waiter gets its turn.
    @Test func workSlotsBoundTheWorkAndServeEveryWaiter() async {
        let slots = WorkSlots(limit: 3)
        final class Tally: Sendable { let m = Mutex((now: 0, most: 0, done: 0)) }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await slots.run {
                        tally.m.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        try? await Task.sleep(for: .milliseconds(2))
                        tally.m.withLock { $0.now -= 1; $0.done += 1 }
                    }
                }
            }
        }
        let s = tally.m.withLock { $0 }
        #expect(s.done == 40 && s.now == 0)
        #expect(s.most <= 3 && s.most >= 2, "at most 3 at once, and the slots were used: \(s.most)")
    }
}

/// Holds one of the depot's places: a push whose headers are sent and whose body is not,
/// until `release()` closes the connection.
final class SlotHolder: @unchecked Sendable {  // safe: used by one test
    let fd: Int32

    /// `credential`: the depot answers a request without one before it takes a place.
    init(port: Int, credential: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw TestFailure("connect: errno \(errno)") }
        let head = Array(("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(credential)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").utf8)
        guard head.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == head.count else {
            close(fd)
            throw TestFailure("send: errno \(errno)")
        }
    }

    func release() { close(fd) }
}
