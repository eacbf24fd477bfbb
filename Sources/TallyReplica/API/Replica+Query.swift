import Foundation
import GRDB
import GRDBSQLite

/// Reading the rows that share one column value (a ticket's lines, a route's events) without
/// loading the whole table: the domain's hot paths on a handheld.
extension Replica {
    /// Live rows whose `column` equals `value`, in key order. Fast when the column has a local
    /// index (`ensureIndex`), correct without one.
    public func rows(_ table: String, where column: String, is value: Value) throws(ReplicaError) -> [Row] {
        try withRead { db, e in
            guard let plan = e.planByName[table] else { throw ReplicaError.schemaMismatch("there is no table '\(table)' in this replica") }
            return try Self.select(db, e, plan.schema, where: column, is: value)
        }
    }

    /// Creates a local index on one column of a table, if missing. Indexes are this file's own:
    /// they are not replicated and change no digest.
    public func ensureIndex(_ table: String, column: String) throws(ReplicaError) {
        try ensureIndex(table, columns: [column])
    }

    /// Creates a local index on several columns of a table, in that order, if missing: a query
    /// that reads only these columns (and the key, which every index carries) never touches the
    /// rows themselves.
    public func ensureIndex(_ table: String, columns: [String]) throws(ReplicaError) {
        try ensureIndexes([(table, columns)])
    }

    /// Several local indexes at once, in one transaction (a command that opens the file for one
    /// write pays for one).
    public func ensureIndexes(_ indexes: [(table: String, columns: [String])]) throws(ReplicaError) {
        // Made once per file: the usual call finds them all and needs no write transaction.
        let existing = try withRead { db, _ in
            Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'"))
        }
        let missing = indexes.filter { !existing.contains("tally_ix_\($0.table)_" + $0.columns.joined(separator: "_")) }
        if missing.isEmpty { return }
        try withWrite { db, e in
            let q = StoreLayout.quote
            for (table, columns) in missing {
                guard let plan = e.planByName[table], !columns.isEmpty else { throw ReplicaError.schemaMismatch("there is no table '\(table)'") }
                for c in columns where plan.schema.columnIndex(c) == nil && c != "tally_cl" {
                    throw ReplicaError.schemaMismatch("there is no column '\(c)' in table '\(table)'")
                }
                let name = "tally_ix_\(table)_" + columns.joined(separator: "_")
                try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(q(name)) ON \(q(table))(\(columns.map(q).joined(separator: ", ")))")
            }
        }
    }

    static func select(_ db: Database, _ e: EngineState, _ t: TableSchema, where column: String, is value: Value) throws -> [Row] {
        guard t.columnIndex(column) != nil else { throw ReplicaError.schemaMismatch("there is no column '\(column)' in table '\(t.name)'") }
        let q = StoreLayout.quote
        let cols = ([q(t.key)] + t.columns.map { q($0.name) } + ["tally_cl"]).joined(separator: ", ")
        let s = try e.query(db, "SELECT \(cols) FROM \(q(t.name)) WHERE \(q(column)) = ? AND tally_cl % 2 = 1 ORDER BY \(q(t.key))")
        defer { s.reset() }
        s.bind(1, value)
        var out: [Row] = []
        let n = t.columns.count
        while try s.step() {
            out.append(Row(table: t.name, key: s.text(0),
                           values: (0..<n).map { ColumnValue(t.columns[$0].name, s.value(Int32($0 + 1))) },
                           isLive: true, causalLength: s.int64(Int32(n + 1))))
        }
        return out
    }
}

extension WriteTransaction {
    /// Stores a blob in the same transaction as the rows that reference it, so a refused write
    /// leaves no orphan image behind. Returns its SHA-256 in hex.
    @discardableResult
    public func putBlob(_ bytes: [UInt8]) throws(ReplicaError) -> String {
        let hash = BlobHash.sha256(bytes)
        do {
            try db.execute(sql: "INSERT OR IGNORE INTO tally_blobs(hash, size, data) VALUES (?, ?, ?)",
                           arguments: [Data(hash), bytes.count, Data(bytes)])
        } catch {
            throw ReplicaError.wrap(error)
        }
        return BlobHash.hex(hash)
    }

    /// Live rows whose `column` equals `value`, as this transaction sees them.
    public func rows(_ table: String, where column: String, is value: Value) throws(ReplicaError) -> [Row] {
        guard let plan = engine.planByName[table] else { throw ReplicaError.schemaMismatch("there is no table '\(table)' in this replica") }
        do { return try Replica.select(db, engine, plan.schema, where: column, is: value) } catch { throw ReplicaError.wrap(error) }
    }
}

extension Replica {
    /// Runs a read-only SQL query over the state tables and hands each result row to `body`,
    /// without keeping them: for reports that add up a million entries (a day's settlement).
    /// State tables are named after the schema's tables, with the key and columns by name and
    /// `tally_cl` odd for a live row; the engine's own `tally_*` tables are not a contract.
    public func select(_ sql: String, _ arguments: [Value] = [], _ body: ([Value]) throws -> Void) throws(ReplicaError) {
        try withRead { db, e in
            let s = try e.query(db, sql)
            defer { s.reset() }
            // Reads run without `PRAGMA query_only` (see `withRead`): the statement itself says.
            guard sqlite3_stmt_readonly(s.handle) != 0 else {
                throw ReplicaError.refused("only a query that reads can run here; this one would change the replica: \(sql)")
            }
            for (i, v) in arguments.enumerated() { s.bind(Int32(i + 1), v) }
            let n = sqlite3_column_count(s.handle)
            var row = [Value](repeating: .null, count: Int(n))
            while try s.step() {
                for i in 0..<Int(n) { row[i] = s.value(Int32(i)) }
                try body(row)
            }
        }
    }
}
