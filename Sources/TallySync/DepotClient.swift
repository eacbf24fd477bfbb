import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TallyProtocol
import TallyReplica

/// Requests to a depot: JSON bodies compressed with zlib, the credential as a bearer token,
/// the device's clock in a header so the depot can measure skew.
struct DepotClient: Sendable {
    let base: URL
    let credential: String
    let clock: any WallClock
    let session: URLSession
    /// Own changes still unsynced, for the "unreachable" message.
    let pending: @Sendable () -> Int

    init(base: URL, credential: String, clock: any WallClock, pending: @escaping @Sendable () -> Int) {
        self.base = base
        self.credential = credential
        self.clock = clock
        self.pending = pending
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 30
        config.timeoutIntervalForResource = 300
        session = URLSession(configuration: config)
    }

    /// Bytes sent and received, for the summary line.
    final class Meter: @unchecked Sendable {  // safe: one sync at a time mutates it, from one task
        var sent = 0
        var received = 0
        /// Requests answered `503 busy` and sent again.
        var busy = 0
    }

    func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body, as: Answer.Type, meter: Meter) async throws(SyncError) -> Answer {
        let bytes: [UInt8]
        do { bytes = try WireCodec.encode(body, compress: true) } catch { throw .protocolViolation("cannot encode the request: \(error)") }
        let data = try await send("POST", path, body: bytes, contentType: "application/json", compressed: true, meter: meter)
        return try decode(Answer.self, Self.inflateIfNeeded(data))
    }

    func put(_ path: String, bytes: [UInt8], meter: Meter) async throws(SyncError) {
        _ = try await send("PUT", path, body: bytes, contentType: "application/octet-stream", compressed: false, meter: meter)
    }

    func get(_ path: String, meter: Meter) async throws(SyncError) -> [UInt8] {
        try await send("GET", path, body: nil, contentType: nil, compressed: false, meter: meter)
    }

    /// How long a request keeps waiting, in all, on a depot that answers `503` with
    /// `Retry-After` (busy with other devices) before the sync gives up as unreachable.
    static let maxBusyWait: Double = 600

    /// The wait before attempt `attempt` (0 first) after the depot asked for `retryAfter`
    /// seconds: what it asks, doubled for each busy answer in a row up to 8×, at most 30 s,
    /// with ±25% jitter so that devices refused together do not come back together.
    static func busyDelay(retryAfter: Double, attempt: Int) -> Double {
        let base = min(30, max(0.05, retryAfter) * Double(1 << min(attempt, 3)))
        return base * Double.random(in: 0.75...1.25)
    }

    private func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String?, compressed: Bool,
                      meter: Meter) async throws(SyncError) -> [UInt8] {
        var waited = 0.0
        var attempt = 0
        while true {
            switch try await sendOnce(method, path, body: body, contentType: contentType, compressed: compressed, meter: meter) {
            case .done(let bytes):
                return bytes
            case .busy(let retryAfter, let message):
                // Nothing was done: the same request is safe to send again.
                guard waited < Self.maxBusyWait else {
                    throw .unreachable(url: base.absoluteString, pending: pending(), reason: "the depot stayed busy for \(Int(waited)) s: \(message)")
                }
                let delay = Self.busyDelay(retryAfter: retryAfter, attempt: attempt)
                attempt += 1
                meter.busy += 1
                waited += delay
                try? await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            }
        }
    }

    private enum Outcome { case done([UInt8]), busy(retryAfter: Double, message: String) }

    private func sendOnce(_ method: String, _ path: String, body: [UInt8]?, contentType: String?, compressed: Bool,
                          meter: Meter) async throws(SyncError) -> Outcome {
        var req = URLRequest(url: base.appendingPathComponent(String(path.dropFirst())))
        req.httpMethod = method
        req.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization")
        req.setValue(String(clock.nowMilliseconds()), forHTTPHeaderField: "Tally-Clock")
        req.setValue("deflate", forHTTPHeaderField: "Accept-Encoding")
        if let contentType { req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if compressed { req.setValue("deflate", forHTTPHeaderField: "Content-Encoding") }
        if let body { req.httpBody = Data(body) }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: req)
        } catch {
            throw .unreachable(url: base.absoluteString, pending: pending(), reason: "\(error)")
        }
        meter.sent += body?.count ?? 0
        meter.received += data.count
        guard let http = response as? HTTPURLResponse else { throw .protocolViolation("not an HTTP answer") }
        let bytes = Array(data)
        if http.statusCode == 503, let after = http.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) {
            let e = WireCodec.decodeError(Self.inflateIfNeeded(bytes), status: 503)
            return .busy(retryAfter: after, message: e?.message ?? "HTTP 503")
        }
        guard (200..<300).contains(http.statusCode) else {
            let bytes = Self.inflateIfNeeded(bytes)
            guard let e = WireCodec.decodeError(bytes, status: http.statusCode) else {
                if http.statusCode >= 500 || http.statusCode == 404 {
                    throw .unreachable(url: base.absoluteString, pending: pending(), reason: "HTTP \(http.statusCode)")
                }
                throw .protocolViolation("HTTP \(http.statusCode) without an error body")
            }
            if http.statusCode == 401 { throw .credentialRefused(e) }
            if e.code == "storage" || http.statusCode >= 500 {
                throw .unreachable(url: base.absoluteString, pending: pending(), reason: e.message)
            }
            throw .refused(e)
        }
        return .done(bytes)
    }

    /// Bodies come zlib-compressed unless the HTTP stack already inflated them: JSON starts
    /// with `{` or `[`, a zlib stream never does.
    static func inflateIfNeeded(_ bytes: [UInt8]) -> [UInt8] {
        guard let first = bytes.first, first != UInt8(ascii: "{"), first != UInt8(ascii: "[") else { return bytes }
        return (try? Deflate.decompress(bytes, limit: WireLimits.maxInflated)) ?? bytes
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(SyncError) -> T {
        do { return try WireCodec.decode(T.self, from: bytes, compressed: false) } catch {
            throw .protocolViolation(error.message)
        }
    }
}
