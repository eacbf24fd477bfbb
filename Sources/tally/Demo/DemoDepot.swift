import Foundation
import Logging
import TallyDepot
import TallyReplica
import TallyRoutes

/// The demo's depot: the real HTTP server, run in this process on a loopback port, that can be
/// stopped (the vans drive out of reach) and started again on the same port.
struct DemoDepot {
    let port: Int
    let task: Task<Void, any Error>

    static func start(replica: Replica, registry: DeviceRegistry, clock: any WallClock, logger: Logger, port: Int) async throws -> DemoDepot {
        let service = DepotService(replica: replica, registry: registry, scope: ColumnScopePolicy(schema: replica.schema),
                                   clock: clock, logger: logger, version: Tally.version)
        let server = DepotServer(service: service, host: "127.0.0.1", port: port, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run { continuation.yield($0) }
        }
        var it = ports.makeAsyncIterator()
        guard let bound = await it.next() else {
            _ = try await task.value
            throw DepotError.refused("the demo's depot could not listen on 127.0.0.1:\(port)")
        }
        return DemoDepot(port: bound, task: task)
    }

    /// Stops serving and waits until the port is closed.
    func stop() async throws {
        task.cancel()
        _ = try? await task.value
    }
}
