import Foundation
import TallyToolSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TallyProtocol
import TallyReplica

/// The push half of a sync, as `SyncClient` does it (own changes after the depot's ack, pages
/// of JSON deflated, `POST /v1/push`), without the pull and blob phases: the depot's ingest
/// alone.
enum RawPush {
    /// Pushed changes, changes left, request bytes.
    static func pushAll(_ replica: Replica, credential: String, url: URL, session: URLSession, pageSize: Int) async throws -> (pushed: Int, pending: Int, sent: Int) {
        var pushed = 0, sent = 0
        var ack: UInt64 = 0
        while true {
            let page = try replica.ownChanges(after: ack, limit: pageSize)
            if page.isEmpty { break }
            let body = try WireCodec.encode(PushRequest(schemaVersion: replica.schema.version, site: replica.site, changes: page), compress: true)
            var req = URLRequest(url: url.appendingPathComponent("v1/push"))
            req.httpMethod = "POST"
            req.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization")
            req.setValue(String(SystemWallClock().nowMilliseconds()), forHTTPHeaderField: "Tally-Clock")
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
            req.setValue("deflate", forHTTPHeaderField: "Content-Encoding")
            req.setValue("deflate", forHTTPHeaderField: "Accept-Encoding")
            req.httpBody = Data(body)
            var (data, response) = try await session.data(for: req)
            // A busy depot (503 with Retry-After) did nothing: wait as DepotClient does, send again.
            var attempt = 0
            while (response as? HTTPURLResponse)?.statusCode == 503,
                  let after = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) {
                let delay = min(30, after * Double(1 << min(attempt, 3))) * Double.random(in: 0.75...1.25)
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
                (data, response) = try await session.data(for: req)
            }
            var bytes = Array(data)
            if let first = bytes.first, first != UInt8(ascii: "{") { bytes = try Deflate.decompress(bytes, limit: WireLimits.maxInflated) }
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw ToolError("push answered \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: bytes, as: UTF8.self))")
            }
            let answer = try WireCodec.decode(PushResponse.self, from: bytes, compressed: false)
            guard answer.ack > ack else { throw ToolError("push: the depot's ack did not move (\(answer.ack))") }
            ack = answer.ack
            pushed += page.count
            sent += body.count
        }
        return (pushed, try replica.ownChangeCount(after: ack), sent)
    }
}

/// A join's steps one by one, timed: what `SyncClient.join` does after `POST /v1/join`.
enum SnapshotSteps {
    struct Timing {
        var request = 0.0, inflate = 0.0, write = 0.0, open = 0.0, settings = 0.0
        var received = 0, file = 0
        /// The depot's deflate (level 1) of the file, redone here to time it and size it.
        var deflate = 0.0, compressed = 0
    }

    static func measure(url: URL, credential: String, path: String, options: ReplicaOptions) async throws -> Timing {
        var t = Timing()
        var req = URLRequest(url: url.appendingPathComponent("v1/snapshot"))
        req.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization")
        req.setValue("deflate", forHTTPHeaderField: "Accept-Encoding")
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 300
        let session = URLSession(configuration: config)
        var clock = ContinuousClock.now
        func lap() -> Double {
            let now = ContinuousClock.now
            defer { clock = now }
            return Fmt.secs(clock.duration(to: now))
        }
        let (data, response) = try await session.data(for: req)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw ToolError("snapshot: HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
        let body = Array(data)
        t.request = lap()
        t.received = body.count
        let magic = Array("SQLite format 3".utf8)
        let file = body.starts(with: magic) ? body : try Deflate.decompress(body, limit: WireLimits.maxSnapshot)
        t.inflate = lap()
        t.file = file.count
        try Data(file).write(to: URL(fileURLWithPath: path))
        t.write = lap()
        let replica = try Replica.open(at: path, options: options)
        t.open = lap()
        try replica.setSettings(["sync.url": url.absoluteString, "sync.credential": credential])
        try replica.checkpoint()
        try replica.close()
        t.settings = lap()
        t.compressed = Deflate.compress(file, level: 1).count
        t.deflate = lap()
        return t
    }
}
