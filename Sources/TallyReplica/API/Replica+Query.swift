import Foundation
import GRDB

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
        try withWrite { db, e in
            guard let plan = e.planByName[table], plan.schema.columnIndex(column) != nil else {
                throw ReplicaError.schemaMismatch("there is no column '\(column)' in table '\(table)'")
            }
            let q = StoreLayout.quote
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(q("tally_ix_\(table)_\(column)")) ON \(q(table))(\(q(column)))")
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
