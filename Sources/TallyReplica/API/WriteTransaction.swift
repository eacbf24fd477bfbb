import GRDB

/// Local writes inside one SQLite transaction. Each call records one change (a new clock value
/// and the next sequence number of this site) and merges it into the state at once, through the
/// same rules as a remote change, so the writer sees its own writes.
///
/// A call that breaks a rule throws `ReplicaError.refused` and, when the error leaves `write`,
/// nothing of the transaction is kept.
public final class WriteTransaction {
    let engine: EngineState
    let db: Database
    /// Changes recorded so far in this transaction, built on demand from `recorded`.
    public var changes: [Change] {
        recorded.map { c in
            let plan = engine.plans[c.table]
            return Change(table: plan.schema.name, key: c.key, cl: c.cl,
                          values: c.columns.map { ColumnValue(plan.schema.columns[$0.0].name, $0.1) },
                          hlc: HLC(rawValue: c.hlc), site: engine.localSite, seq: c.seq)
        }
    }
    /// How many changes this transaction has recorded so far (cheap, unlike `changes`).
    public var changeCount: Int { recorded.count }
    /// The changes recorded so far, in the engine's form (most writers never ask for `changes`).
    private(set) var recorded: [ResolvedChange] = []

    init(engine: EngineState, db: Database) {
        self.engine = engine
        self.db = db
    }

    /// Records a new ledger event, or creates a record. A ledger event already present with the
    /// same content is a no-op (returns false); with other content it is refused. Creating a
    /// record whose key is live is refused.
    @discardableResult
    public func insert(_ table: String, key: String, _ values: [String: Value]) throws(ReplicaError) -> Bool {
        let plan = try plan(table)
        if plan.isLedger {
            let cols = try columns(plan, values)
            // A new key is stored without a read first; only a key already there is looked at.
            if try recordLedgerRow(plan, key, cols) { return true }
            let row = try plan.load(key)
            var content = [Value](repeating: .null, count: plan.schema.columns.count)
            for (i, v) in cols { content[i] = v }
            if content == row.values { return false }
            throw ReplicaError.refused("\(table) '\(key)' is already recorded with other content; ledger entries never change: record a correcting entry instead")
        }
        let row = try plan.load(key)
        if row.isLive { throw ReplicaError.refused("\(table) '\(key)' already exists; update it instead") }
        try create(plan, key, row, values)
        return true
    }

    /// Changes columns of a live record.
    public func update(_ table: String, key: String, _ values: [String: Value]) throws(ReplicaError) {
        let plan = try plan(table)
        if plan.isLedger { throw ReplicaError.refused("\(table) is a ledger: its entries never change; record a correcting entry instead") }
        let row = try plan.load(key)
        guard row.isLive else {
            throw ReplicaError.refused(row.exists ? "\(table) '\(key)' was deleted; insert it again to bring it back" : "there is no \(table) '\(key)'")
        }
        let cols = try columns(plan, values)
        try checkLattices(plan, key, row, cols)
        try record(plan, key, cl: row.cl, cols, over: row)
    }

    /// Creates the record, or updates it if it is live.
    public func upsert(_ table: String, key: String, _ values: [String: Value]) throws(ReplicaError) {
        let plan = try plan(table)
        if plan.isLedger { try insert(table, key: key, values); return }
        let row = try plan.load(key)
        if row.isLive { try update(table, key: key, values) } else { try create(plan, key, row, values) }
    }

    /// Creates the record, or sets only the columns whose values differ from the stored ones;
    /// records nothing when all are equal. Returns whether a change was recorded. What an
    /// import that must be idempotent uses: importing the same data twice changes nothing.
    @discardableResult
    public func upsertIfChanged(_ table: String, key: String, _ values: [String: Value]) throws(ReplicaError) -> Bool {
        let plan = try plan(table)
        if plan.isLedger { return try insert(table, key: key, values) }
        let row = try plan.load(key)
        guard row.isLive else {
            try create(plan, key, row, values)
            return true
        }
        let changed = values.filter { name, v in plan.columnIndex[name].map { row.values[$0] != v } ?? true }
        if changed.isEmpty { return false }
        try update(table, key: key, changed)
        return true
    }

    /// `upsertIfChanged` for a change written before and written again now (a device set up
    /// again records its own changes anew): a column stored with a later stamp than `written`
    /// keeps its value, as the merge would have kept it had the old change arrived. So a note
    /// replayed from a file that went back never undoes a later note. Returns whether a change
    /// was recorded.
    @discardableResult
    public func upsertIfNewer(_ table: String, key: String, _ values: [String: Value], written: HLC) throws(ReplicaError) -> Bool {
        let plan = try plan(table)
        let row = try plan.load(key)
        guard row.exists else { return try upsertIfChanged(table, key: key, values) }
        let newer = values.filter { name, _ in
            guard let i = plan.columnIndex[name], plan.schema.columns[i].order == nil else { return true }
            return row.stamps[i].hlc <= written.rawValue
        }
        if newer.isEmpty { return false }
        return try upsertIfChanged(table, key: key, newer)
    }

    /// Deletes a record of a deletable table. It can be inserted again later; delete and
    /// re-insert converge in any order (causal length).
    public func delete(_ table: String, key: String) throws(ReplicaError) {
        let plan = try plan(table)
        guard plan.schema.deletable else {
            throw ReplicaError.refused("\(table) rows cannot be deleted; cancel them with a status instead")
        }
        let row = try plan.load(key)
        guard row.isLive else { throw ReplicaError.refused("there is no \(table) '\(key)' to delete") }
        try record(plan, key, cl: row.cl + 1, [], over: row)
    }

    /// Reads a row as this transaction sees it.
    public func row(_ table: String, key: String) throws(ReplicaError) -> Row? {
        let plan = try plan(table)
        return Row(plan: plan, key: key, state: try plan.load(key))
    }

    // MARK: - Internals

    private func plan(_ table: String) throws(ReplicaError) -> TablePlan {
        guard let p = engine.planByName[table] else {
            throw ReplicaError.schemaMismatch("there is no table '\(table)' in this replica")
        }
        return p
    }

    private func columns(_ plan: TablePlan, _ values: [String: Value]) throws(ReplicaError) -> [(Int, Value)] {
        var cols: [(Int, Value)] = []
        cols.reserveCapacity(values.count)
        for (name, v) in values {
            guard let i = plan.columnIndex[name] else {
                throw ReplicaError.schemaMismatch("\(plan.schema.name) has no column '\(name)'")
            }
            let col = plan.schema.columns[i]
            guard v.fits(col.type) else {
                throw ReplicaError.schemaMismatch("\(plan.schema.name).\(name) holds \(col.type.rawValue), not \(v)")
            }
            if let order = col.order {
                guard let s = v.text, order.contains(s) else {
                    throw ReplicaError.refused("\(plan.schema.name).\(name) takes one of \(order.values.joined(separator: ", ")), not \(v)")
                }
            }
            cols.append((i, v))
        }
        cols.sort { $0.0 < $1.0 }
        return cols
    }

    /// A lattice value may only move up from every value the column holds now.
    private func checkLattices(_ plan: TablePlan, _ key: String, _ row: RowState, _ cols: [(Int, Value)]) throws(ReplicaError) {
        for (i, v) in cols {
            guard let order = plan.schema.columns[i].order, let new = v.text else { continue }
            var held: [String] = []
            if row.stamps[i] == .latticeConflict {
                held = try engine.conflictValues(plan, key, i)
            } else if let s = row.values[i].text {
                held = [s]
            }
            for old in held where !order.lessOrEqual(old, new) {
                let name = plan.schema.columns[i].name
                throw ReplicaError.refused("\(plan.schema.name) '\(key)' \(name) is \(old); it cannot become \(new)")
            }
        }
    }

    private func create(_ plan: TablePlan, _ key: String, _ row: RowState, _ values: [String: Value]) throws(ReplicaError) {
        var cols = try columns(plan, values)
        if row.exists {
            // A new life after a delete starts from blank registers, not the old row's values.
            let given = Set(cols.map(\.0))
            for (i, c) in plan.schema.columns.enumerated() where !given.contains(i) {
                if case .register = c.merge { cols.append((i, .null)) }
            }
            cols.sort { $0.0 < $1.0 }
            try checkLattices(plan, key, row, cols)
        }
        let cl = row.exists ? (row.cl % 2 == 0 ? row.cl + 1 : row.cl) : 1
        try record(plan, key, cl: cl, cols, over: row)
    }

    /// Records one change to a row of a record table and merges it into `row`, the row as
    /// loaded by the caller in this transaction.
    private func record(_ plan: TablePlan, _ key: String, cl: Int64, _ cols: [(Int, Value)], over row: RowState) throws(ReplicaError) {
        try checkOwnership(plan, key, cl: cl, cols, stored: row.cl)
        let c = try nextChange(plan, key, cl: cl, cols)
        try log(c, owner: try engine.owner(of: c, loaded: row))
        var report = ApplyReport()
        try engine.merge([c], into: plan, loaded: row, report: &report)
    }

    /// Records a new ledger row: the same as merging its change, for a key not stored yet.
    /// Returns false, recording nothing, when the key is already stored.
    private func recordLedgerRow(_ plan: TablePlan, _ key: String, _ cols: [(Int, Value)]) throws(ReplicaError) -> Bool {
        try checkOwnership(plan, key, cl: 1, cols, stored: 0)
        let c = try nextChange(plan, key, cl: 1, cols)
        var content = [Value](repeating: .null, count: plan.schema.columns.count)
        for (i, v) in cols { content[i] = v }
        guard try plan.save(key, RowState(exists: true, values: content, stamps: [c.stamp], cl: 1), onlyIfNew: true) else { return false }
        try log(c, owner: plan.scopeColumn.flatMap { content[$0].text })
        return true
    }

    /// On a device, refuses a write to what the depot decides (`TableSchema.depotOwnedPart`),
    /// before anything of it is recorded.
    private func checkOwnership(_ plan: TablePlan, _ key: String, cl: Int64, _ cols: [(Int, Value)], stored: Int64) throws(ReplicaError) {
        guard engine.isDevice, plan.hasDepotOwnedParts else { return }
        let t = plan.schema
        if let part = t.depotOwnedPart(setting: cols.map { t.columns[$0.0].name }, causalLength: cl, stored: stored) {
            throw ReplicaError.ownedByDepot(table: t.name, key: key, part: part)
        }
    }

    /// The next local change: a new clock value and the next sequence number of this site.
    private func nextChange(_ plan: TablePlan, _ key: String, cl: Int64, _ cols: [(Int, Value)]) throws(ReplicaError) -> ResolvedChange {
        guard !key.isEmpty else { throw ReplicaError.refused("a \(plan.schema.name) key cannot be empty") }
        return ResolvedChange(table: plan.index, key: key, cl: cl, columns: cols, hlc: engine.clock.tick().rawValue,
                              site: engine.localIndex, seq: engine.localSeq + 1)
    }

    private func log(_ c: ResolvedChange, owner: String?) throws(ReplicaError) {
        guard try engine.appendToLog(c, owner: owner) else {
            throw ReplicaError.storage("this replica already holds a change numbered \(c.seq) from itself (was the file restored from a copy?); sync with the depot before writing")
        }
        engine.contiguous[engine.localIndex] = c.seq
        recorded.append(c)
    }
}

extension Replica {
    /// Runs local writes in one transaction and returns what the body returns. Either every
    /// write of the body is kept, or (when it throws) none is.
    @discardableResult
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws(ReplicaError) -> T {
        try withWrite { db, engine in
            try engine.checkCeiling()
            let tx = WriteTransaction(engine: engine, db: db)
            let result = try body(tx)
            try tx.finish()
            return result
        }
    }
}

extension WriteTransaction {
    /// Stores the site's sequence and the clock after the body's writes, before commit.
    func finish() throws(ReplicaError) {
        guard !recorded.isEmpty else { return }
        engine.updateSiteSeq.reset()
        engine.updateSiteSeq.bind(1, Int64(engine.localSeq))
        engine.updateSiteSeq.bind(2, Int64(engine.localIndex))
        try engine.updateSiteSeq.run()
        try engine.saveClock()
    }
}

extension EngineState {
    func conflictValues(_ plan: TablePlan, _ key: String, _ column: Int) throws(ReplicaError) -> [String] {
        let s = selectConflict
        s.reset()
        s.bind(1, plan.schema.name); s.bind(2, key); s.bind(3, plan.schema.columns[column].name)
        defer { s.reset() }
        guard try s.step() else { return [] }
        return ConflictCoding.decode(s.text(0))
    }
}
