import Foundation
import GRDB
import Logging

/// One replica: a single SQLite file that records local writes as changes, merges everyone
/// else's, and converges. Vans, service windows and the depot all use this same engine.
///
/// One writer per store: every operation runs on the replica's single serialized connection,
/// one SQLite transaction per call. The file is in WAL mode, so other processes (a `sqlite3`
/// shell, a status command) can read it while the replica writes.
public final class Replica: Sendable {
    public let path: String
    public let site: SiteID
    public let schema: Schema
    let queue: DatabaseQueue
    let engine: EngineState
    let logger: Logger

    private init(path: String, site: SiteID, schema: Schema, queue: DatabaseQueue, engine: EngineState, logger: Logger) {
        self.path = path
        self.site = site
        self.schema = schema
        self.queue = queue
        self.engine = engine
        self.logger = logger
    }

    /// Creates a new replica file with the given schema and site id.
    ///
    /// The file is built under a temporary name next to `path` and moved into place once
    /// complete, so that a crash while creating never leaves a file at `path` that is not a
    /// replica (it could then be neither opened nor created again).
    public static func create(at path: String, schema: Schema, site: SiteID = .random(),
                              options: ReplicaOptions) throws(ReplicaError) -> Replica {
        if FileManager.default.fileExists(atPath: path) { throw ReplicaError.alreadyExists(path: path) }
        let building = path + ".creating"
        removeDatabaseFiles(building)  // left by a create that was interrupted
        let queue = try openQueue(building, options)
        do {
            try queue.write { db in
                try db.execute(sql: StoreLayout.engineTables)
                for t in schema.tables { try db.execute(sql: StoreLayout.createTable(t)) }
                let schemaJSON = String(decoding: try JSONEncoder().encode(schema), as: UTF8.self)
                for (name, value) in [("format", StoreLayout.format as any DatabaseValueConvertible), ("site", site.hex),
                                      ("schema", schemaJSON), ("hlc", 0),
                                      ("created_ms", Int64(options.wallClock.nowMilliseconds()))] {
                    try db.execute(sql: "INSERT INTO tally_meta(name, value) VALUES (?, ?)", arguments: [name, value])
                }
                try db.execute(sql: "INSERT INTO tally_sites(site, seq) VALUES (?, 0)", arguments: [Data(site.bytes)])
            }
            // Everything into the main file, so that the one file moved into place is the replica.
            _ = try queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try queue.close()
            try FileManager.default.moveItem(atPath: building, toPath: path)
        } catch {
            try? queue.close()
            removeDatabaseFiles(building)
            if FileManager.default.fileExists(atPath: path) { throw ReplicaError.alreadyExists(path: path) }
            throw ReplicaError.wrap(error)
        }
        removeDatabaseFiles(building)  // an empty WAL, if SQLite left one
        options.logger.info("created replica", metadata: ["path": "\(path)", "site": "\(site.hex)"])
        return try open(at: path, schema: schema, options: options)
    }

    private static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Opens an existing replica. With a schema, the stored schema is upgraded to it when it only
    /// appends tables or columns; without one, the stored schema is used.
    public static func open(at path: String, schema: Schema? = nil, options: ReplicaOptions) throws(ReplicaError) -> Replica {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReplicaError.notAReplica(path: path, reason: "no such file")
        }
        let queue = try openQueue(path, options)
        do {
            let stored = try storedSchema(queue, path)
            var chosen = stored
            if let schema, schema != stored {
                guard schema.extends(stored) else {
                    throw ReplicaError.incompatibleSchema("\(path) holds schema version \(stored.version), which this Tally cannot extend to version \(schema.version): use the Tally version that made it")
                }
                try upgrade(queue, from: stored, to: schema)
                options.logger.notice("upgraded replica schema", metadata: ["from": "\(stored.version)", "to": "\(schema.version)"])
                chosen = schema
            }
            return try finishOpen(path, queue, schema: chosen, options)
        } catch {
            try? queue.close()
            throw ReplicaError.wrap(error)
        }
    }

    private static func openQueue(_ path: String, _ options: ReplicaOptions) throws(ReplicaError) -> DatabaseQueue {
        // It holds the device's credential and signing key: readable by its owner only.
        try PrivateFiles.prepareDatabase(path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        let sync = options.durability.pragma
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(sync)")
            // A page cache of up to 32 MB (SQLite's default is 2 MB): a depot's reports read
            // hundreds of thousands of rows; a handheld's small file never fills it.
            try db.execute(sql: "PRAGMA cache_size = -32768")
        }
        do {
            return try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw ReplicaError.notAReplica(path: path, reason: "\(error)")
        }
    }

    private static func storedSchema(_ queue: DatabaseQueue, _ path: String) throws -> Schema {
        let (format, json): (Int?, String?) = try queue.read { db in
            guard try db.tableExists("tally_meta") else { return (nil, nil) }
            return (try Int.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = 'format'"),
                    try String.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = 'schema'"))
        }
        guard let format, let json else { throw ReplicaError.notAReplica(path: path, reason: "no Tally metadata in it") }
        guard format <= StoreLayout.format else {
            throw ReplicaError.incompatibleSchema("\(path) was written by a newer Tally (file format \(format)); update Tally to open it")
        }
        do {
            return try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        } catch {
            throw ReplicaError.notAReplica(path: path, reason: "its stored schema is damaged: \(error)")
        }
    }

    private static func upgrade(_ queue: DatabaseQueue, from old: Schema, to new: Schema) throws {
        try queue.write { db in
            for (i, t) in new.tables.enumerated() {
                if i < old.tables.count {
                    for sql in StoreLayout.addColumns(from: old.tables[i], to: t) { try db.execute(sql: sql) }
                } else {
                    try db.execute(sql: StoreLayout.createTable(t))
                }
            }
            let json = String(decoding: try JSONEncoder().encode(new), as: UTF8.self)
            try db.execute(sql: "UPDATE tally_meta SET value = ? WHERE name = 'schema'", arguments: [json])
        }
    }

    private static func finishOpen(_ path: String, _ queue: DatabaseQueue, schema: Schema,
                                   _ options: ReplicaOptions) throws(ReplicaError) -> Replica {
        do {
            let engine: EngineState = try queue.write { db in
                guard let siteHex = try String.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = 'site'"),
                      let site = SiteID(hex: siteHex)
                else { throw ReplicaError.notAReplica(path: path, reason: "its site id is missing") }
                let last = try Int64.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = 'hlc'") ?? 0
                let clock = HybridClock(wall: options.wallClock, last: HLC(rawValue: UInt64(bitPattern: last)), maxDrift: options.maxDrift)
                let (scopeColumns, shared) = try prepareScopeIndex(db, schema: schema, requested: options.scopeColumns,
                                                                   shared: options.sharedOwners)
                return try EngineState(db, schema: schema, localSite: site, clock: clock, scopeColumns: scopeColumns, sharedOwners: shared)
            }
            return Replica(path: path, site: engine.localSite, schema: schema, queue: queue, engine: engine, logger: options.logger)
        } catch {
            try? queue.close()
            throw ReplicaError.wrap(error)
        }
    }

    /// Gives the change log its owner column (files made before it), stores the requested scope
    /// columns and shared owners and, when they change, recomputes every log row's owner from
    /// the stored rows; indexes the owners when there are any. Returns what is in force.
    private static func prepareScopeIndex(_ db: Database, schema: Schema, requested: [String]?,
                                          shared requestedShared: [String: String]?) throws -> ([String], [String: String]) {
        let logColumns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('tally_log')")
        if !logColumns.contains("sc") { try db.execute(sql: "ALTER TABLE tally_log ADD COLUMN sc TEXT") }
        func stored<T: Decodable>(_ name: String, _ type: T.Type) throws -> T? {
            try String.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = ?", arguments: [name])
                .map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        }
        func store<T: Encodable>(_ name: String, _ value: T) throws {
            let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
            try db.execute(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)", arguments: [name, json])
        }
        let storedColumns = try stored("scope_columns", [String].self) ?? []
        let storedShared = try stored("shared_owners", [String: String].self) ?? [:]
        let chosen = requested ?? storedColumns
        let chosenShared = requestedShared ?? storedShared
        if chosen != storedColumns || chosenShared != storedShared {
            try store("scope_columns", chosen)
            try store("shared_owners", chosenShared)
            let q = StoreLayout.quote
            for (i, t) in schema.tables.enumerated() {
                if let token = chosenShared[t.name] {
                    try db.execute(sql: "UPDATE tally_log SET sc = ? WHERE tbl = ?", arguments: [token, i])
                } else if let c = EngineState.scopeColumn(of: t, among: chosen) {
                    let col = q(t.columns[c].name)
                    try db.execute(sql: "UPDATE tally_log SET sc = (SELECT CASE WHEN typeof(\(col)) = 'text' THEN \(col) END FROM \(q(t.name)) WHERE \(q(t.key)) = tally_log.key) WHERE tbl = ?",
                                   arguments: [i])
                } else {
                    try db.execute(sql: "UPDATE tally_log SET sc = NULL WHERE tbl = ?", arguments: [i])
                }
            }
        }
        if !chosen.isEmpty || !chosenShared.isEmpty { try db.execute(sql: StoreLayout.scopeIndex) }
        return (chosen, chosenShared)
    }

    /// Runs a write transaction; on any error the transaction rolls back and the in-memory
    /// engine state is put back as it was.
    func withWrite<T>(_ body: (Database, EngineState) throws -> T) throws(ReplicaError) -> T {
        let saved = engine.snapshot()
        do {
            return try queue.write { db in
                try engine.refreshIfChanged(db)
                return try body(db, engine)
            }
        } catch {
            engine.restore(saved)
            throw ReplicaError.wrap(error)
        }
    }

    /// Runs reads in one deferred transaction, so they see one state of the file.
    ///
    /// Not GRDB's `read`: it brackets every call with `PRAGMA query_only = 1` and `= 0`, and
    /// SQLite expires every prepared statement of the connection when a flag pragma changes,
    /// so each cached statement (a table's row load, the change log's append) was compiled
    /// again after every read: a third of a device's sync went to that (`docs/BENCHMARKS.md`).
    /// What runs in here only reads; the engine's write paths go through `withWrite`.
    func withRead<T>(_ body: (Database, EngineState) throws -> T) throws(ReplicaError) -> T {
        do {
            return try queue.inDatabase { db in
                var result: T?
                try db.inTransaction(.deferred) {
                    try engine.refreshIfChanged(db)
                    result = try body(db, engine)
                    return .commit
                }
                return result!  // safe: set before the transaction commits
            }
        } catch {
            throw ReplicaError.wrap(error)
        }
    }

    /// The clock's last value.
    public var clock: HLC { (try? withRead { _, e in e.clock.last }) ?? .zero }

    /// For each site, the highest sequence number held without gap.
    public func versionVector() throws(ReplicaError) -> VersionVector {
        try withRead { _, e in e.versionVector }
    }

    /// Closes the file: later calls fail. Needed before moving or copying the file; otherwise the
    /// connection closes when the replica is released.
    public func close() throws(ReplicaError) {
        do {
            try queue.inDatabase { _ in engine.finalizeStatements() }
            try queue.close()
        } catch {
            throw ReplicaError.wrap(error)
        }
    }

    /// Writes pending WAL pages into the main file, so that a copy of the file alone is complete.
    public func checkpoint() throws(ReplicaError) {
        do { try queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } } catch { throw ReplicaError.wrap(error) }
    }
}

extension ReplicaError {
    static func wrap(_ error: any Error) -> ReplicaError {
        switch error {
        case let e as ReplicaError: e
        case let e as ClockDriftError: .clockDrift(e)
        case let e as SchemaError: .incompatibleSchema(e.message)
        case let e as DatabaseError:
            switch e.resultCode {
            case .SQLITE_FULL: .storage("the disk is full; free some space and try again")
            case .SQLITE_BUSY, .SQLITE_LOCKED: .storage("the replica is busy in another program; close it and try again")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: .storage("the file is damaged (\(e.message ?? "corrupt")); restore it from a backup")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: .storage("the file cannot be written (\(e.message ?? "read-only")); check its permissions")
            default: .storage(e.message ?? "\(e)")
            }
        default: .storage("\(error)")
        }
    }
}
