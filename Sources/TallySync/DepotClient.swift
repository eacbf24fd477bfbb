import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import TallyProtocol
import TallyReplica

/// Requests to a depot: JSON bodies compressed with zlib, the credential as a bearer token,
/// the device's clock in a header so the depot can measure skew; over HTTPS verified as
/// `DepotTrust` says, or plain HTTP on loopback.
struct DepotClient: Sendable {
    let base: URL
    let credential: String
    let clock: any WallClock
    let http: HTTPClient
    /// Own changes still unsynced, for the "unreachable" message.
    let pending: @Sendable () -> Int

    /// Refuses, before anything is sent, a URL the trust does not allow.
    init(base: URL, credential: String, clock: any WallClock, trust: DepotTrust,
         pending: @escaping @Sendable () -> Int) throws(SyncError) {
        try trust.check(base)
        self.base = base
        self.credential = credential
        self.clock = clock
        self.pending = pending
        http = try DepotHTTPClients.client(for: trust)
    }

    /// The longest a single request may take, body included (a first sync's snapshot).
    static let requestTimeout: TimeAmount = .seconds(300)

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

    /// Sends raw bytes (not JSON) with POST.
    func postBytes(_ path: String, bytes: [UInt8], contentType: String, meter: Meter) async throws(SyncError) {
        _ = try await send("POST", path, body: bytes, contentType: contentType, compressed: false, meter: meter)
    }

    func get(_ path: String, meter: Meter) async throws(SyncError) -> [UInt8] {
        try await send("GET", path, body: nil, contentType: nil, compressed: false, meter: meter)
    }

    /// GETs a body straight into `file`, inflated on the way when it comes compressed: a
    /// first sync's snapshot of hundreds of megabytes is never held whole in memory.
    func download(_ path: String, to file: String, meter: Meter) async throws(SyncError) {
        _ = try await send("GET", path, body: nil, contentType: nil, compressed: false, meter: meter, into: file)
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
                      meter: Meter, into file: String? = nil) async throws(SyncError) -> [UInt8] {
        var waited = 0.0
        var attempt = 0
        while true {
            switch try await sendOnce(method, path, body: body, contentType: contentType, compressed: compressed, meter: meter, into: file) {
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
                          meter: Meter, into file: String?) async throws(SyncError) -> Outcome {
        var req = HTTPClientRequest(url: base.appendingPathComponent(String(path.dropFirst())).absoluteString)
        req.method = .init(rawValue: method)
        req.headers.add(name: "Authorization", value: "Bearer \(credential)")
        req.headers.add(name: "Tally-Clock", value: String(clock.nowMilliseconds()))
        req.headers.add(name: "Accept-Encoding", value: "deflate")
        if let contentType { req.headers.add(name: "Content-Type", value: contentType) }
        if compressed { req.headers.add(name: "Content-Encoding", value: "deflate") }
        if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
        let status: Int, retryAfter: String?, bytes: [UInt8]
        do {
            let response = try await http.execute(req, timeout: Self.requestTimeout)
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After")
            if let file, (200..<300).contains(status) {
                let inflate = response.headers.first(name: "Content-Encoding")?.lowercased() == "deflate"
                meter.received += try await Self.write(response.body, to: file, inflate: inflate)
                return .done([])
            }
            bytes = Array(buffer: try await response.body.collect(upTo: WireLimits.maxInflated))
        } catch let e as SyncError {
            throw e
        } catch {
            if let reason = Self.certificateProblem(error) {
                throw .certificate(url: base.absoluteString, reason: reason)
            }
            throw .unreachable(url: base.absoluteString, pending: pending(), reason: "\(error)")
        }
        meter.sent += body?.count ?? 0
        meter.received += bytes.count
        if status == 503, let after = retryAfter.flatMap(Double.init) {
            let e = WireCodec.decodeError(Self.inflateIfNeeded(bytes), status: 503)
            // A depot whose disk failed also asks to come back later, but not within this
            // sync: its staff must act first.
            if e?.code != WireError.storageCode { return .busy(retryAfter: after, message: e?.message ?? "HTTP 503") }
        }
        guard (200..<300).contains(status) else {
            let bytes = Self.inflateIfNeeded(bytes)
            guard let e = WireCodec.decodeError(bytes, status: status) else {
                if status >= 500 || status == 404 {
                    throw .unreachable(url: base.absoluteString, pending: pending(), reason: "HTTP \(status)")
                }
                throw .protocolViolation("HTTP \(status) without an error body")
            }
            if status == 401 { throw .credentialRefused(e) }
            if e.code == WireError.storageCode {
                throw .depotCannotStore(url: base.absoluteString, pending: pending(), reason: e.message)
            }
            // 408: the line was too slow for the depot to wait on; nothing was done.
            if status >= 500 || status == 408 {
                throw .unreachable(url: base.absoluteString, pending: pending(), reason: e.message)
            }
            throw .refused(e)
        }
        return .done(bytes)
    }

    /// Writes a response body to a new file as it arrives; returns the bytes received. A file
    /// that cannot be written is a local storage error, damaged data a protocol violation, and
    /// the line failing mid-body is thrown as it comes (the caller calls it unreachable).
    private static func write(_ body: HTTPClientResponse.Body, to path: String, inflate: Bool) async throws -> Int {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        // A snapshot holds the device's scope: readable by its owner only, like the replica.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: Int(PrivateFiles.fileMode)]),
              (try? PrivateFiles.restrict(path)) != nil, let out = FileHandle(forWritingAtPath: path) else {
            throw SyncError.local(.storage("cannot create \(path); check the folder exists and can be written"))
        }
        defer { try? out.close() }
        func put<Bytes: DataProtocol>(_ bytes: Bytes) throws {
            do { try out.write(contentsOf: bytes) } catch {
                throw SyncError.local(.storage("cannot write \(path) (\(error)); check the free space"))
            }
        }
        let inflater = inflate ? InflateStream(limit: WireLimits.maxSnapshot) : nil
        var received = 0
        do {
            for try await buffer in body {
                received += buffer.readableBytes
                try buffer.withUnsafeReadableBytes { raw in
                    if let inflater {
                        try inflater.inflate(raw) { piece in try put(piece) }
                    } else {
                        guard received <= WireLimits.maxSnapshot else { throw DeflateError.tooLarge(limit: WireLimits.maxSnapshot) }
                        try put(raw)
                    }
                }
            }
        } catch let e as DeflateError {
            throw SyncError.protocolViolation("the depot's snapshot is damaged (\(e)); join again")
        }
        if let inflater, !inflater.finished {
            throw SyncError.protocolViolation("the depot's snapshot was cut short; join again")
        }
        return received
    }

    /// A TLS handshake refused for the depot's certificate, in words; nil for other failures
    /// (the depot down, the line cut), which are only "unreachable". BoringSSL does not say
    /// which check failed, so the words name the three a person can check.
    static func certificateProblem(_ error: any Error) -> String? {
        let text = String(reflecting: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("failedToValidateHostname") {
            return "not signed by the CA this device trusts, made for another name, or expired"
        }
        if let ssl = error as? NIOSSLError, case .handshakeFailed = ssl { return "the TLS handshake failed: \(ssl)" }
        return nil
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
