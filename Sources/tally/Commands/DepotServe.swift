import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import TallyDepot
import TallyReplica
import TallyRoutes
import TallySync

struct DepotServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve sync to devices until stopped with Ctrl-C or SIGTERM.",
        discussion: "Binds 127.0.0.1 unless --host says otherwise. GET /health, GET /version and GET /metrics (Prometheus text) answer without a credential.")

    @OptionGroup var data: DataOption
    @Option(help: "Address to bind.")
    var host = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one (printed).")
    var port = 8080
    @Option(help: "Sync requests taken at once (running or waiting); more are answered 503 busy with Retry-After.")
    var maxInFlight = DepotServer.defaultMaxInFlight
    @Option(help: "Of those, requests decoded and applied at once; the others wait their turn (bounds the depot's memory). Default: two per core.")
    var maxWorking = DepotServer.defaultMaxWorking
    @Option(help: "Seconds a connection may send nothing, mid-request included, before the depot closes it.")
    var idleTimeout = DepotServer.defaultIdleTimeout
    @Option(help: "Seconds a request may take to arrive whole (head and body); later, it is dropped with 408.")
    var requestDeadline = Int(RequestLimits.defaultDeadline)
    @Option(help: "Bytes a second a request body must average after its first 10 s, or it is dropped with 408; 0: no floor.")
    var minBodyRate = Int(RequestLimits.defaultMinBodyRate)
    @Option(help: "Open connections one address may have (loopback excepted); more are closed at once. 0: no limit.")
    var maxConnectionsPerAddress = RequestLimits.defaultMaxConnectionsPerAddress
    @Option(help: "Serve HTTPS with this certificate (PEM; `tally depot tls` makes one). Needs --tls-key.")
    var tlsCert: String?
    @Option(help: "The private key (PEM) of --tls-cert.")
    var tlsKey: String?
    @Flag(help: "Serve plain HTTP on an address other than loopback (only on a line you know is private).")
    var allowPlainHttp = false

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard requestDeadline >= 1, minBodyRate >= 0, maxConnectionsPerAddress >= 0 else {
            throw ValidationError("--request-deadline is at least 1 s; --min-body-rate and --max-connections-per-address are 0 or more")
        }
    }

    func run() async throws {
        do {
            if tlsCert == nil && !allowPlainHttp && !DepotTrust.isLoopback(host) {
                throw DepotError.refused("refusing to serve plain HTTP on \(host): credentials and cash would cross the network unencrypted; "
                    + "make a certificate with `tally depot tls --data DIR --host NAME` and serve with --tls-cert and --tls-key, "
                    + "or add --allow-plain-http if this line is private")
            }
            let clock = SystemWallClock()
            let replica = try data.folder.replica(schema: RouteSchema.current, options: .cli())
            let registry = try data.folder.registry(clock: clock)
            var logger = Logger(label: "tally.depot")
            logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["TALLY_LOG"] ?? "") ?? .info
            let service = DepotService(replica: replica, registry: registry, scope: ColumnScopePolicy(schema: replica.schema),
                                       clock: clock, logger: logger, version: Tally.version, scratch: data.folder.scratchPath)
            service.removeLeftSnapshots()
            let tls = tlsCert.map { DepotTLS(certificatePath: $0, keyPath: tlsKey ?? "") }
            // The process's metrics go to one Prometheus registry, shown at GET /metrics.
            let metrics = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
            let server = DepotServer(service: service, host: host, port: port, maxInFlight: maxInFlight, maxWorking: maxWorking, idleTimeout: idleTimeout,
                                     limits: RequestLimits(deadline: Double(requestDeadline), minBodyRate: Double(minBodyRate),
                                                           maxConnectionsPerAddress: maxConnectionsPerAddress),
                                     tls: tls, metrics: metrics, logger: logger)
            let host = self.host
            let scheme = tls == nil ? "http" : "https"
            try await server.run { port in
                Console.out("depot listening on \(scheme)://\(host):\(port) (data \(data.data)); stop with Ctrl-C")
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
