import AsyncHTTPClient
import Foundation
import NIOCore

/// The HTTP clients a process talks to depots with: one per trust setting, kept for the life of
/// the process (like `HTTPClient.shared`), so connections are reused across syncs and nothing
/// needs shutting down.
enum DepotHTTPClients {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var clients: [DepotTrust: HTTPClient] = [:]  // safe: touched under `lock`

    static func client(for trust: DepotTrust) throws(SyncError) -> HTTPClient {
        lock.lock()
        defer { lock.unlock() }
        if let c = clients[trust] { return c }
        var config = HTTPClient.Configuration()
        config.tlsConfiguration = try trust.tlsConfiguration()
        config.httpVersion = .http1Only
        config.timeout = .init(connect: .seconds(10), read: .seconds(60))
        // A device that cannot reach its depot says so at once (and keeps its changes); the
        // sync's own retries handle a busy depot.
        config.connectionPool.retryConnectionEstablishment = false
        // Below the depot's 30 s idle timeout, so a pooled connection is not reused just as
        // the depot closes it.
        config.connectionPool.idleTimeout = .seconds(20)
        // A device syncs one request at a time; a process driving many devices (the simulator,
        // the benchmarks) shares this client, so let it open as many connections as they need.
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        config.redirectConfiguration = .disallow
        let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        clients[trust] = c
        return c
    }
}
