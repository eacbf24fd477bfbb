import Foundation
import Hummingbird
import Logging
import HTTPTypes
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
    let logger: Logger

    public init(service: DepotService, host: String = "127.0.0.1", port: Int = 8080, logger: Logger) {
        self.service = service
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Serves until SIGINT or SIGTERM. `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let service = self.service
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: WireLimits.maxBody)
            } catch {
                return Self.response(DepotService.error(.tooLarge("the request is over \(WireLimits.maxBody) bytes; sync in smaller batches")))
            }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let req = DepotRequest(method: request.method.rawValue, path: request.uri.path, headers: headers,
                                   body: Array(buffer: body))
            let res = await Self.offload { service.handle(req) }
            return Self.response(res)
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "tally-depot", reuseAddress: true),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// Runs blocking database work off the server's event loops.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { cont in
            DispatchQueue.global().async { cont.resume(returning: work()) }
        }
    }

    static func response(_ r: DepotResponse) -> Response {
        var fields = HTTPFields()
        for (k, v) in r.headers {
            if let name = HTTPField.Name(k) { fields[name] = v }
        }
        return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }
}
