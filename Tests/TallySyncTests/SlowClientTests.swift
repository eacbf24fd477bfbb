import Foundation
import Testing
import TallyToolSupport
import TallyProtocol

/// Clients that send slowly, too much, or from too many connections cannot stop devices from
/// syncing (`tally depot serve --request-deadline --min-body-rate --max-connections-per-address`).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SlowClientTests {
    /// 80 clients without a credential trickle a push's body a byte at a time: they are
    /// answered 401 before they take a place, and cut once their body falls under the rate
    /// floor; a van syncs in about the time it takes with no one else on the depot.
    @Test func tricklingClientsWithoutACredentialDoNotSlowASync() async throws {
        let scratch = try Scratch("trickle")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")

        _ = try writeEvents(van, count: 2_000, prefix: "EV-a")
        let alone = try await van.sync(scratch)
        #expect(alone.status == 0, "\(alone)")

        _ = try writeEvents(van, count: 2_000, prefix: "EV-b")
        let attackers = Tricklers(count: 80, port: depot.port)
        try await Task.sleep(for: .seconds(2))
        let attacked = try await van.sync(scratch, timeout: max(60, 10 * alone.seconds))
        #expect(attacked.status == 0, "\(attacked)")
        #expect(attacked.summary?["busy_retries"] as? Int ?? -1 == 0, "no busy answers while the attackers trickle: \(attacked.stdout)")
        #expect(attacked.seconds < 3 * alone.seconds + 1, "with attackers \(attacked.seconds) s, alone \(alone.seconds) s")

        // Past the 10 s grace, each trickling body is under the floor: every attacker is cut.
        let until = Date().addingTimeInterval(30)
        while attackers.closedByDepot < 80 && Date() < until { try await Task.sleep(for: .milliseconds(500)) }
        let answers = attackers.answers
        attackers.stop()
        print("[trickle] sync alone \(alone.seconds) s, with 80 attackers \(attacked.seconds) s; cut \(attackers.closedByDepot), answers \(answers)")
        #expect(attackers.closedByDepot >= 80, "every trickling connection was cut: \(attackers.closedByDepot), answers \(answers)")
        #expect(answers[401, default: 0] >= 80, "answered 401 before the body: \(answers)")
        #expect(answers[503, default: 0] == 0, "never counted against the depot's places: \(answers)")

        #expect(try depot.rows("events").count == 4_000)
        let metrics = try await HTTP.send("GET", depot.url, "/metrics").text
        #expect(metrics.contains("tally_requests_refused_total{reason=\"credential\"}"), "\(metrics.prefix(3_000))")
        #expect(metrics.contains("tally_requests_refused_total{reason=\"slow_body\"}"), "\(metrics.prefix(3_000))")
        await depot.stop()
    }

    /// A head that announces more than the depot takes is answered 413 at once: the client
    /// sends no body and still gets the answer, and the connection is closed.
    @Test func anAnnouncedBodyOverTheLimitIsRefusedBeforeItIsSent() async throws {
        let scratch = try Scratch("toolarge")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")

        let client = try RawClient(port: depot.port)
        client.send("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(van.credential)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(WireLimits.maxBody + 1)\r\n\r\n")
        let (bytes, closed) = client.read(timeout: 10)
        let answer = RawClient.answer(bytes)
        #expect(answer?.status == 413, "\(String(decoding: bytes, as: UTF8.self))")
        #expect(WireCodec.decodeError(Array((answer?.body ?? "").utf8), status: 413)?.code == "too_large", "\(answer?.body ?? "")")
        #expect(closed, "the depot closes the connection rather than wait for 16 MB")
        let metrics = try await HTTP.send("GET", depot.url, "/metrics").text
        #expect(metrics.contains("tally_requests_refused_total{reason=\"too_large\"}"), "\(metrics.prefix(3_000))")
        await depot.stop()
    }

    /// A device with a good credential whose body keeps coming, but too slowly to be whole
    /// by the deadline, is answered 408 and cut, and its place is free for the next device.
    @Test func aSlowBodyWithACredentialIsCutAtTheDeadline() async throws {
        let scratch = try Scratch("deadline")
        let depot = try await DepotProcess(scratch)
        try await depot.start(extra: ["--request-deadline", "2", "--max-in-flight", "1"])
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        _ = try writeEvents(van, count: 3, prefix: "EV")

        // 100 bytes every quarter second: 400 B/s, inside the rate floor's 10 s grace, but
        // 10,000 bytes would take 25 s.
        let slow = try RawClient(port: depot.port)
        slow.send("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(van.credential)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
        let started = Date()
        var sent = 0
        var answer: [UInt8] = []
        var closed = false
        while sent < 10_000, Date().timeIntervalSince(started) < 20 {
            guard slow.send([UInt8](repeating: UInt8(ascii: " "), count: 100)) else { break }
            sent += 100
            let r = slow.read(timeout: 0.25)
            answer += r.bytes
            if r.closed { closed = true; break }
        }
        if !closed { answer += slow.read(timeout: 3).bytes }
        let took = Date().timeIntervalSince(started)
        #expect(sent < 10_000, "cut before the body was whole (\(sent) bytes in \(took) s)")
        let parsed = RawClient.answer(answer)
        #expect(parsed?.status == 408, "\(String(decoding: answer, as: UTF8.self))")
        #expect(WireCodec.decodeError(Array((parsed?.body ?? "").utf8), status: 408)?.code == "request_timeout", "\(parsed?.body ?? "")")

        // The one place is free again: the van syncs without a busy answer.
        let sync = try await van.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.summary?["busy_retries"] as? Int ?? -1 == 0, "\(sync.stdout)")
        let metrics = try await HTTP.send("GET", depot.url, "/metrics").text
        #expect(metrics.contains("tally_requests_refused_total{reason=\"deadline\"}"), "\(metrics.prefix(3_000))")
        await depot.stop()
    }

    /// One address holds at most its share of connections; the next is closed at once, other
    /// addresses are served, and a freed connection can be opened again.
    @Test func oneAddressOpensAtMostItsShareOfConnections() async throws {
        let scratch = try Scratch("peraddress")
        let depot = try await DepotProcess(scratch)
        try await depot.start(extra: ["--max-connections-per-address", "3"])

        let held = try (0..<3).map { _ in try RawClient(port: depot.port, from: "127.0.0.9") }
        try await Task.sleep(for: .milliseconds(300))
        let extra = try RawClient(port: depot.port, from: "127.0.0.9")
        let (bytes, closed) = extra.read(timeout: 5)
        #expect(closed && bytes.isEmpty, "a fourth connection from one address is closed at once (\(bytes.count) bytes)")

        #expect(try RawClient.get("/health", port: depot.port, from: "127.0.0.10") == 200, "another address is served")
        held[0].send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(RawClient.answer(held[0].read(timeout: 1).bytes)?.status == 200, "the connections within the share are served")

        held[1].close()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try RawClient.get("/health", port: depot.port, from: "127.0.0.9") == 200, "a freed connection can be opened again")
        let metrics = try await HTTP.send("GET", depot.url, "/metrics").text
        #expect(metrics.contains("tally_connections_refused_total{reason=\"per_address\"}"), "\(metrics.prefix(3_000))")
        await depot.stop()
    }
}
