import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import HTTPTypes
import Prometheus
import NIOCore
import TallyProtocol

/// The depot's HTTP server: a thin shell that hands every request to `DepotService`.
///
/// Binds 127.0.0.1 unless told otherwise; shuts down gracefully on SIGINT and SIGTERM; reuses
/// the address so a restarted depot binds the same port at once.
public struct DepotServer: Sendable {
    public let service: DepotService
    public let host: String
    public let port: Int
    /// Sync requests (`/v1/…`) the depot takes at once, running or waiting for the store; past
    /// it a request is answered at once with `503 busy` and `Retry-After`, without reading
    /// its body, instead of queueing until the device's request times out and it sends again.
    public let maxInFlight: Int
    /// Of those, how many are decoded and applied at once (`WorkSlots`); the rest wait with
    /// their body as received. Bounds the depot's memory: the store has one writer anyway.
    public let maxWorking: Int
    /// Seconds a connection may send nothing (between requests, or in the middle of one) before
    /// the depot closes it: a client that stalls mid-body cannot hold a sync slot for long.
    public let idleTimeout: Int
    /// How slowly and how long a request may arrive, and how many connections one address may
    /// hold (`RequestGuard`).
    public let limits: RequestLimits
    /// HTTPS with this certificate and key; nil serves plain HTTP (loopback, or a private line
    /// the operator allowed).
    public let tls: DepotTLS?
    /// Where `GET /metrics` reads from (the registry the process's metrics go to); nil: no
    /// `/metrics`.
    public let metrics: PrometheusCollectorRegistry?
    let logger: Logger

    public static let defaultMaxInFlight = 64
    public static let defaultIdleTimeout = 30
    /// Two per core: requests decode on the others while one applies.
    public static let defaultMaxWorking = max(2, 2 * ProcessInfo.processInfo.activeProcessorCount)

    public init(service: DepotService, host: String = "127.0.0.1", port: Int = 8080,
                maxInFlight: Int = DepotServer.defaultMaxInFlight, maxWorking: Int = DepotServer.defaultMaxWorking,
                idleTimeout: Int = DepotServer.defaultIdleTimeout, limits: RequestLimits = RequestLimits(),
                tls: DepotTLS? = nil, metrics: PrometheusCollectorRegistry? = nil, logger: Logger) {
        self.service = service
        self.tls = tls
        self.metrics = metrics
        self.host = host
        self.port = port
        self.maxInFlight = max(1, maxInFlight)
        self.maxWorking = max(1, maxWorking)
        self.idleTimeout = max(1, idleTimeout)
        self.limits = limits
        self.logger = logger
    }

    /// Serves until SIGINT or SIGTERM. `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let service = self.service
        let gate = Gate(limit: maxInFlight)
        let slots = WorkSlots(limit: maxWorking)
        let logger = self.logger
        let metrics = self.metrics
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let path = request.uri.path
            if path == "/metrics", request.method == .get, let metrics {
                return await Self.offload { Self.metricsPage(service, metrics) }
            }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let gated = path.hasPrefix("/v1/")
            if gated {
                // Who asks comes first: without a credential the depot knows, a request is
                // answered before it takes a place or a byte of its body is read.
                let asking = DepotRequest(method: request.method.rawValue, path: path, headers: headers)
                if let refusal = await Self.offload({ Self.credentialRefusal(asking, service) }) {
                    return Self.response(refusal)
                }
                guard gate.enter() else {
                    DepotMetrics.shed()
                    let shed = gate.shed()
                    if shed == 1 || shed % 100 == 0 {
                        logger.notice("busy: requests shed", metadata: ["shed": "\(shed)", "limit": "\(gate.limit)"])
                    }
                    return Self.busy(retryAfter: 1)
                }
            }
            defer { if gated { gate.leave() } }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: WireLimits.maxBody)
            } catch let dropped as RequestGuard.Dropped {
                // The guard has answered 408 and closes the connection; the place is freed here.
                return Self.response(DepotService.error(.requestTimeout("dropped (\(dropped.verdict.rawValue))")))
            } catch is NIOTooManyBytesError {
                return Self.response(DepotService.error(.tooLarge("the request is over \(WireLimits.maxBody) bytes; sync in smaller batches")))
            } catch {
                return Self.response(DepotService.error(.badRequest("the request's body was cut short (\(error)); send it again")))
            }
            let req = DepotRequest(method: request.method.rawValue, path: request.uri.path, headers: headers,
                                   body: Array(buffer: body))
            // Sync requests take a working slot; health, version and the like do not wait.
            let handle = { await Self.offload { service.handle(req) } }
            return Self.response(gated ? await slots.run(handle) : await handle())
        }
        let limits = self.limits
        let addresses = AddressCounts()
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: [RequestGuard(limits: limits, addresses: addresses)], idleTimeout: .seconds(Int64(idleTimeout))))
        let server = try tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: try $0.configuration()) } ?? http1
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "tally-depot", reuseAddress: true),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The answer to a `/v1/` request whose credential the depot does not take (missing,
    /// unknown, revoked), counted like any answer; nil when it does.
    static func credentialRefusal(_ request: DepotRequest, _ service: DepotService) -> DepotResponse? {
        let started = DispatchTime.now().uptimeNanoseconds
        let e: WireError
        do { _ = try service.registry.authenticate(request.bearer); return nil } catch { e = error }
        if e.status == 401 { DepotMetrics.refused("credential") }
        let answer = DepotService.error(e)
        DepotMetrics.answered(DepotMetrics.endpoint(request.method, request.path), status: answer.status, errorCode: e.code,
                              bytesIn: 0, bytesOut: answer.body.count, nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
        return answer
    }

    /// The Prometheus text page, with the scrape-time gauges read first.
    static func metricsPage(_ service: DepotService, _ registry: PrometheusCollectorRegistry) -> Response {
        do {
            try DepotMetrics.refresh(replica: service.replica, registry: service.registry, now: Date())
        } catch {
            return response(DepotService.error(StorageFailure.wire(error, "cannot read the depot's state for metrics")))
        }
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// Runs blocking database work off the server's event loops.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { cont in
            DispatchQueue.global().async { cont.resume(returning: work()) }
        }
    }

    static func busy(retryAfter seconds: Int) -> Response {
        var r = response(DepotService.error(.busy("the depot is busy with other devices; try again in \(seconds) s")))
        r.headers[.retryAfter] = String(seconds)
        return r
    }

    static func response(_ r: DepotResponse) -> Response {
        var fields = HTTPFields()
        for (k, v) in r.headers {
            if let name = HTTPField.Name(k) { fields[name] = v }
        }
        if let file = r.file {
            return Response(status: .init(code: r.status), headers: fields, body: stream(file))
        }
        return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }

    /// A file sent a megabyte at a time (deflated on the way if asked), then removed, sent
    /// whole or not.
    static func stream(_ file: FileBody) -> ResponseBody {
        ResponseBody(contentLength: file.deflate ? nil : file.size) { writer in
            defer { try? FileManager.default.removeItem(atPath: file.path) }
            guard let input = FileHandle(forReadingAtPath: file.path) else {
                throw DepotError.refused("the snapshot file \(file.path) is gone; have the device join again")
            }
            defer { try? input.close() }
            let deflater = file.deflate ? DeflateStream(level: 1) : nil
            while true {
                let piece = try await offload { Result { try input.read(upToCount: FileBody.pieceBytes).map { Array($0) } ?? [] } }.get()
                let out = deflater?.compress(piece, finish: piece.isEmpty) ?? piece
                if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                if piece.isEmpty { break }
            }
            try await writer.finish(nil)
        }
    }
}

/// Counts the sync requests in the depot; refuses entry past the limit.
final class Gate: @unchecked Sendable {  // safe: every field is touched under `lock`
    let limit: Int
    private let lock = NSLock()
    private var inFlight = 0
    private var shedCount = 0

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false when the depot is full.
    func enter() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard inFlight < limit else { return false }
        inFlight += 1
        return true
    }

    func leave() {
        lock.lock(); defer { lock.unlock() }
        inFlight -= 1
    }

    /// Counts a refused request; returns how many so far.
    func shed() -> Int {
        lock.lock(); defer { lock.unlock() }
        shedCount += 1
        return shedCount
    }
}
