import ArgumentParser
import Foundation
import Logging
import TallyDepot
import TallyReplica
import TallyRoutes

struct DepotServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve sync to devices until stopped with Ctrl-C or SIGTERM.",
        discussion: "Binds 127.0.0.1 unless --host says otherwise. GET /health and GET /version answer without a credential.")

    @OptionGroup var data: DataOption
    @Option(help: "Address to bind.")
    var host = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one (printed).")
    var port = 8080
    @Option(help: "Sync requests taken at once (running or waiting); more are answered 503 busy with Retry-After.")
    var maxInFlight = DepotServer.defaultMaxInFlight
    @Option(help: "Seconds a connection may send nothing, mid-request included, before the depot closes it.")
    var idleTimeout = DepotServer.defaultIdleTimeout

    func run() async throws {
        do {
            let clock = SystemWallClock()
            let replica = try data.folder.replica(schema: RouteSchema.current, options: .cli())
            let registry = try data.folder.registry(clock: clock)
            var logger = Logger(label: "tally.depot")
            logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["TALLY_LOG"] ?? "") ?? .info
            let service = DepotService(replica: replica, registry: registry, scope: ColumnScopePolicy(schema: replica.schema),
                                       clock: clock, logger: logger, version: Tally.version)
            let server = DepotServer(service: service, host: host, port: port, maxInFlight: maxInFlight, idleTimeout: idleTimeout, logger: logger)
            let host = self.host
            try await server.run { port in
                Console.out("depot listening on http://\(host):\(port) (data \(data.data)); stop with Ctrl-C")
            }
            Console.out("depot stopped")
        } catch {
            if "\(error)".contains("Address already in use") {
                Console.err("tally: \(host):\(port) is already in use (another depot still running?); stop it, or serve on another --port")
                throw ExitCode(1)
            }
            throw fail(error)
        }
    }
}
