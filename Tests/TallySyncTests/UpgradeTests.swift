import Foundation
import Logging
import Testing
import TallyDepot
import TallyReplica
import TallyRoutes
import TallySync

/// Two schema versions in one run: the depot is upgraded (a column and a table added) while a
/// van stays on the previous version; the van keeps syncing, then is updated and catches up.
@Suite struct UpgradeTests {
    /// The next schema: `tickets.gate_code` and a `fuel` ledger appended to the current one.
    static func nextSchema() throws -> Schema {
        var tables = RouteSchema.current.tables
        let t = try #require(tables.firstIndex { $0.name == "tickets" })
        tables[t].columns.append(ColumnSchema("gate_code", .text))
        tables.append(TableSchema("fuel", key: "id", kind: .ledger, columns: [
            ColumnSchema("route", .text), ColumnSchema("litres", .integer), ColumnSchema("at", .text),
        ]))
        return try Schema(version: RouteSchema.current.version + 1, tables: tables)
    }

    /// The real depot server in this process (so it can run a schema the `tally` binary does
    /// not have), on a loopback port.
    struct InProcessDepot {
        let task: Task<Void, any Error>
        let url: URL

        static func start(_ folder: DepotFolder, schema: Schema, port: Int = 0) async throws -> InProcessDepot {
            let logger = Logger(label: "test.depot", factory: { _ in SwiftLogNoOpLogHandler() })
            let replica = try folder.replica(schema: schema, options: .quiet())
            let service = DepotService(replica: replica, registry: try folder.registry(clock: SystemWallClock()),
                                       scope: ColumnScopePolicy(schema: replica.schema), clock: SystemWallClock(), logger: logger, version: "test")
            let server = DepotServer(service: service, port: port, logger: logger)
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let task = Task {
                defer { continuation.finish() }
                try await server.run { continuation.yield($0) }
            }
            var it = ports.makeAsyncIterator()
            let bound = try #require(await it.next())
            return InProcessDepot(task: task, url: URL(string: "http://127.0.0.1:\(bound)")!)  // safe: well-formed
        }

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    @Test func aVanOnThePreviousSchemaKeepsSyncingAndCatchesUpWhenUpdated() async throws {
        let scratch = try Scratch("upgrade")
        let folder = DepotFolder(scratch.path("depot"))
        try folder.create(schema: RouteSchema.current, options: .quiet())
        let (_, credential) = try folder.registry(clock: SystemWallClock()).enroll(name: "van-a", role: .van, scope: "R07")
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

        // Schema 5 everywhere: the van joins and works.
        var depot = try await InProcessDepot.start(folder, schema: RouteSchema.current)
        let path = scratch.path("van-a.sqlite")
        _ = try await SyncClient.join(url: depot.url, credential: credential.token, replicaPath: path, options: .quiet())
        let van = DeviceFile(name: "van-a", route: "R07", path: path, credential: credential.token)
        _ = try writeEvents(van, count: 3, prefix: "EV-v5")
        _ = try await SyncClient(replica: try Replica.open(at: path, options: .quiet()), logger: logger).sync()
        let port = try #require(depot.url.port)
        await depot.stop()

        // The depot is upgraded: its file grows a column and a table, and it records both for R07.
        let next = try Self.nextSchema()
        do {
            let r = try folder.replica(schema: next, options: .quiet())
            try r.write { tx in
                try tx.upsert("tickets", key: "R07-T1", ["route": "R07", "date": "2026-12-01", "stop": 1, "status": "planned", "gate_code": "东门 4471"])
                _ = try tx.insert("fuel", key: "F-1", ["route": "R07", "litres": 42, "at": "2026-12-01T07:00:00+08:00"])
                _ = try tx.insert("fuel", key: "F-OTHER", ["route": "R08", "litres": 9, "at": "2026-12-01T07:00:00+08:00"])
            }
            try r.close()
        }
        depot = try await InProcessDepot.start(folder, schema: next, port: port)

        // The van, still on schema 5, works and syncs: its entries go up, the new column and
        // table wait on it, nothing is refused.
        _ = try writeEvents(van, count: 2, prefix: "EV-old")
        let old = try Replica.open(at: path, options: .quiet())
        #expect(old.schema.version == RouteSchema.current.version)
        let summary = try await SyncClient(replica: old, logger: logger).sync()
        #expect(summary.pending == 0, "the van's entries reached the upgraded depot")
        #expect(try old.deferredCount() == 2, "the ticket change (gate code) and R07's fuel entry wait for the update")
        #expect(try old.row("tickets", key: "R07-T1")?["status"] == "planned", "the columns the van knows are merged at once")
        try old.close()
        let depotEvents = try folder.replica(schema: next, options: .quiet()).rows("events").map(\.key)
        #expect(Set(depotEvents) == Set((0..<3).map { "EV-v5-\($0)" } + (0..<2).map { "EV-old-\($0)" }))

        // The van is updated: its file opens with the next schema, and the next sync merges
        // what waited. It then holds exactly what the depot holds for R07.
        let updated = try Replica.open(at: path, schema: next, options: .quiet())
        _ = try await SyncClient(replica: updated, logger: logger).sync()
        #expect(try updated.deferredCount() == 0)
        #expect(try updated.row("tickets", key: "R07-T1")?["gate_code"] == "东门 4471")
        #expect(try updated.rows("fuel").map(\.key) == ["F-1"], "its route's fuel entry, not another route's")
        let depotReplica = try folder.replica(schema: next, options: .quiet())
        for table in ["tickets", "events", "fuel"] {
            let mine = Set(try updated.rows(table).map { "\($0.key) \($0.values)" })
            let theirs = Set(try depotReplica.rows(table).filter { $0["route"] == "R07" }.map { "\($0.key) \($0.values)" })
            #expect(mine == theirs, "\(table): the van holds what the depot holds for R07")
        }
        await depot.stop()
    }
}
