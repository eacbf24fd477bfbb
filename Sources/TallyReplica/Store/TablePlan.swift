import GRDB

/// Prepared statements for one declared table.
final class TablePlan {
    let index: Int
    let schema: TableSchema
    let columnIndex: [String: Int]
    /// Loads a row: the declared columns, then tally_cl, tally_clock.
    let select: RawStatement
    /// Writes a whole row (insert or replace).
    let store: RawStatement
    /// Inserts a row unless its key exists: the ledger fast path.
    let insertNew: RawStatement

    /// The column whose text value owns the row (see `ReplicaOptions.scopeColumns`), if any.
    let scopeColumn: Int?
    /// Reads the owner of a stored row, when the table has a scope column.
    let selectOwner: RawStatement?
    /// The one owner every change of this table is logged under (`ReplicaOptions.sharedOwners`).
    let sharedOwner: String?
    /// Whether the depot decides any part of this table (`Writer`): only then is a device's
    /// write looked at.
    let hasDepotOwnedParts: Bool

    init(_ db: Database, index: Int, schema t: TableSchema, scopeColumn: Int?, sharedOwner: String? = nil) throws(ReplicaError) {
        self.index = index
        schema = t
        self.scopeColumn = sharedOwner == nil ? scopeColumn : nil
        self.sharedOwner = sharedOwner
        hasDepotOwnedParts = t.hasDepotOwnedParts
        var ci: [String: Int] = [:]
        for (i, c) in t.columns.enumerated() { ci[c.name] = i }
        columnIndex = ci
        let q = StoreLayout.quote
        let cols = t.columns.map { q($0.name) }
        let selectList = (cols + ["tally_cl", "tally_clock"]).joined(separator: ", ")
        select = try RawStatement(db, "SELECT \(selectList) FROM \(q(t.name)) WHERE \(q(t.key)) = ?")
        let insertList = ([q(t.key)] + cols + ["tally_cl", "tally_clock"]).joined(separator: ", ")
        let params = Array(repeating: "?", count: t.columns.count + 3).joined(separator: ", ")
        store = try RawStatement(db, "INSERT OR REPLACE INTO \(q(t.name))(\(insertList)) VALUES (\(params))")
        insertNew = try RawStatement(db, "INSERT INTO \(q(t.name))(\(insertList)) VALUES (\(params)) ON CONFLICT DO NOTHING")
        selectOwner = try self.scopeColumn.map { c throws(ReplicaError) in
            try RawStatement(db, "SELECT \(cols[c]) FROM \(q(t.name)) WHERE \(q(t.key)) = ?")
        }
    }

    /// The stored row's owner: the text in its scope column; nil for no row, no text, or no
    /// scope column.
    func storedOwner(_ key: String) throws(ReplicaError) -> String? {
        guard let s = selectOwner else { return nil }
        s.reset()
        s.bind(1, key)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return s.value(0).text
    }

    var isLedger: Bool { schema.kind == .ledger }

    func load(_ key: String) throws(ReplicaError) -> RowState {
        let n = schema.columns.count
        select.reset()
        select.bind(1, key)
        defer { select.reset() }
        guard try select.step() else { return .absent(columns: n) }
        var values = [Value]()
        values.reserveCapacity(n)
        for i in 0..<n { values.append(select.value(Int32(i))) }
        let cl = select.int64(Int32(n))
        let stamps = Stamp.decode(select.bytes(Int32(n + 1)), count: isLedger ? 1 : n)
        return RowState(exists: true, values: values, stamps: stamps, cl: cl)
    }

    /// Writes the row; with `onlyIfNew`, does nothing when the key exists and returns false.
    @discardableResult
    func save(_ key: String, _ row: RowState, onlyIfNew: Bool = false) throws(ReplicaError) -> Bool {
        let s = onlyIfNew ? insertNew : store
        s.reset()
        s.bind(1, key)
        for (i, v) in row.values.enumerated() { s.bind(Int32(i + 2), v) }
        let n = Int32(row.values.count)
        s.bind(n + 2, row.cl)
        s.bind(n + 3, bytes: Stamp.encode(row.stamps))
        try s.run()
        return s.changes > 0
    }
}
