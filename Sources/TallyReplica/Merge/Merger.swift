import Crypto
import Foundation

/// The merge rules: turning changes into stored rows. Every rule here is commutative,
/// associative and idempotent, so replicas that hold the same changes hold the same rows.
extension EngineState {
    /// Checks a change against the schema and the clock bound, and gives it local indices.
    /// Throws without side effects other than registering a new site (rolled back with the
    /// transaction).
    func resolve(_ c: Change, checkDrift: Bool = true) throws(ReplicaError) -> ResolvedChange {
        guard let plan = planByName[c.table] else {
            throw ReplicaError.schemaMismatch("a change names the table '\(c.table)', which this replica does not have: update Tally on this device")
        }
        let t = plan.schema
        guard !c.key.isEmpty else { throw ReplicaError.invalidChange("a change to '\(c.table)' has an empty key") }
        guard c.seq >= 1 && c.seq <= StoreLayout.maxSeq else { throw ReplicaError.invalidChange("sequence number \(c.seq) is out of range") }
        guard c.hlc.rawValue > 1 else { throw ReplicaError.invalidChange("clock value \(c.hlc.hex) is not a real timestamp") }
        guard c.cl >= 1 else { throw ReplicaError.invalidChange("causal length \(c.cl) of '\(c.table)' row '\(c.key)' is below 1") }
        if !t.deletable && c.cl != 1 {
            throw ReplicaError.invalidChange("'\(c.table)' rows cannot be deleted, but row '\(c.key)' has causal length \(c.cl)")
        }
        if c.cl % 2 == 0 && !c.values.isEmpty {
            throw ReplicaError.invalidChange("a delete of '\(c.table)' row '\(c.key)' also sets columns")
        }
        if t.kind == .ledger && c.values.isEmpty {
            throw ReplicaError.invalidChange("a ledger row '\(c.table)' '\(c.key)' arrived without content")
        }
        var cols: [(Int, Value)] = []
        cols.reserveCapacity(c.values.count)
        for cv in c.values {
            guard let i = plan.columnIndex[cv.column] else {
                throw ReplicaError.schemaMismatch("a change sets '\(c.table).\(cv.column)', a column this replica does not have: update Tally on this device")
            }
            let col = t.columns[i]
            guard cv.value.fits(col.type) else {
                throw ReplicaError.schemaMismatch("'\(c.table).\(cv.column)' holds \(col.type.rawValue), but a change sets it to \(cv.value)")
            }
            if let order = col.order {
                guard let s = cv.value.text, order.contains(s) else {
                    throw ReplicaError.schemaMismatch("'\(c.table).\(cv.column)' takes one of \(order.values.joined(separator: ", ")), not \(cv.value)")
                }
            }
            cols.append((i, cv.value))
        }
        cols.sort { $0.0 < $1.0 }
        for k in cols.indices.dropFirst() where cols[k].0 == cols[k - 1].0 {
            throw ReplicaError.invalidChange("a change sets '\(c.table).\(t.columns[cols[k].0].name)' twice")
        }
        if checkDrift {
            do { try clock.check(c.hlc) } catch { throw ReplicaError.clockDrift(error) }
        }
        return ResolvedChange(table: plan.index, key: c.key, cl: c.cl, columns: cols,
                              hlc: c.hlc.rawValue, site: try index(of: c.site), seq: c.seq)
    }

    /// Logs and merges resolved changes. Changes already held are counted as duplicates and
    /// skipped; the rest are grouped by row so that each row is loaded and stored once.
    func ingest(_ changes: [ResolvedChange], report: inout ApplyReport) throws(ReplicaError) {
        var groups: [[ResolvedChange]] = []
        // Per row touched: its group, and the owner its log rows record (one dictionary, one
        // lookup per change: the hashing of RowRefs was 7% of a depot's ingest).
        var rows: [RowRef: (group: Int, owner: String?)] = [:]
        rows.reserveCapacity(changes.count)
        var newSeqs: [Int: Set<UInt64>] = [:]
        for c in changes {
            if c.seq <= contiguous[c.site] ?? 0 {
                report.duplicates += 1
                continue
            }
            let ref = RowRef(table: c.table, key: c.key)
            let known = rows[ref]
            let owner: String?
            if let known, plans[c.table].scopeColumn.map({ sc in !c.columns.contains { $0.0 == sc } }) ?? true {
                owner = known.owner  // the owner an earlier change of this batch gave the row
            } else {
                owner = try self.owner(of: c)
            }
            guard try appendToLog(c, owner: owner) else {
                report.duplicates += 1
                continue
            }
            report.applied += 1
            newSeqs[c.site, default: []].insert(c.seq)
            if let known {
                groups[known.group].append(c)
                rows[ref] = (known.group, owner)
            } else {
                rows[ref] = (groups.count, owner)
                groups.append([c])
            }
        }
        for g in groups { try merge(g, into: plans[g[0].table], report: &report) }
        for (site, seqs) in newSeqs { try advanceContiguous(site: site, newSeqs: seqs) }
    }

    /// Merges changes that all target one row. `loaded` is the row of a record table when the
    /// caller has just loaded it in this transaction (a local write), to save reading it again.
    func merge(_ group: [ResolvedChange], into plan: TablePlan, loaded: RowState? = nil, report: inout ApplyReport) throws(ReplicaError) {
        let key = group[0].key
        if plan.isLedger {
            var rest = group[...]
            var row: RowState
            let first = ledgerRow(group[0], width: plan.schema.columns.count)
            if try plan.save(key, first, onlyIfNew: true) {
                row = first
                rest = group.dropFirst()
                if rest.isEmpty { return }
            } else {
                row = try plan.load(key)
            }
            var dirty = false
            for c in rest { try mergeLedger(c, into: &row, plan: plan, dirty: &dirty, report: &report) }
            if dirty { try plan.save(key, row) }
            return
        }
        var row: RowState
        if let loaded { row = loaded } else { row = try plan.load(key) }
        var lattices: [Int: (before: [String], now: [String])] = [:]
        for c in group {
            row.exists = true
            row.cl = max(row.cl, c.cl)
            for (i, v) in c.columns {
                switch plan.schema.columns[i].merge {
                case .register:
                    if isLater(c.stamp, than: row.stamps[i]) {
                        row.values[i] = v
                        row.stamps[i] = c.stamp
                    }
                case .lattice(let order):
                    let current: [String]
                    if let l = lattices[i] { current = l.now } else { current = try antichain(plan, key, i, row) }
                    let incoming = v.text ?? ""
                    let joined: [String]
                    if current.count == 1 && order.lessOrEqual(current[0], incoming) {
                        joined = [incoming]  // the usual move up the order, without building sets
                    } else if current.count == 1 && order.lessOrEqual(incoming, current[0]) {
                        joined = current
                    } else {
                        joined = order.maximal(current + [incoming])
                    }
                    lattices[i] = (lattices[i]?.before ?? current, joined)
                }
            }
        }
        for (i, l) in lattices where l.before != l.now {
            let name = plan.schema.columns[i].name
            row.values[i] = l.now.first.map(Value.text) ?? .null
            if l.now.count > 1 {
                row.stamps[i] = .latticeConflict
                try setConflict(plan.schema.name, key, name, l.now)
                if l.before.count <= 1 { report.conflictsOpened += 1 }
            } else {
                if l.before.count > 1 { try clearConflict(plan.schema.name, key, name) }
                row.stamps[i] = .none
            }
        }
        try plan.save(key, row)
    }

    /// The lattice column's current set of maximal values.
    private func antichain(_ plan: TablePlan, _ key: String, _ i: Int, _ row: RowState) throws(ReplicaError) -> [String] {
        if row.stamps[i] == .latticeConflict { return try conflictValues(plan, key, i) }
        return row.values[i].text.map { [$0] } ?? []
    }

    private func setConflict(_ table: String, _ key: String, _ column: String, _ values: [String]) throws(ReplicaError) {
        let json = ConflictCoding.encode(values)
        let s = upsertConflict
        s.reset()
        s.bind(1, table); s.bind(2, key); s.bind(3, column); s.bind(4, json)
        try s.run()
    }

    private func clearConflict(_ table: String, _ key: String, _ column: String) throws(ReplicaError) {
        let s = deleteConflict
        s.reset()
        s.bind(1, table); s.bind(2, key); s.bind(3, column)
        try s.run()
    }

    private func ledgerRow(_ c: ResolvedChange, width: Int) -> RowState {
        var values = [Value](repeating: .null, count: width)
        for (i, v) in c.columns { values[i] = v }
        return RowState(exists: true, values: values, stamps: [c.stamp], cl: 1)
    }

    /// Ledger rule: same content is a no-op (keeping the earliest stamp); other content is a
    /// violation, and the earliest version by (hlc, site) is the one every replica keeps.
    private func mergeLedger(_ c: ResolvedChange, into row: inout RowState, plan: TablePlan,
                             dirty: inout Bool, report: inout ApplyReport) throws(ReplicaError) {
        let incoming = ledgerRow(c, width: plan.schema.columns.count)
        let current = row.stamps.first ?? .none
        if incoming.values == row.values {
            if isLater(current, than: c.stamp) {
                row.stamps = [c.stamp]
                dirty = true
            }
            return
        }
        let table = plan.schema.name
        if isLater(current, than: c.stamp) {
            // The incoming version is earlier: it becomes the row, the stored one the violation.
            report.violations.append(try recordViolation(plan, c.key, row.values, current))
            try forgetViolation(table, c.key, incoming.values)
            row = incoming
            dirty = true
        } else {
            report.violations.append(try recordViolation(plan, c.key, incoming.values, c.stamp))
        }
    }

    private func recordViolation(_ plan: TablePlan, _ key: String, _ values: [Value], _ stamp: Stamp) throws(ReplicaError) -> IntegrityViolation {
        let hash = Self.contentHash(values)
        let cols = zip(plan.schema.columns, values).map { ColumnValue($0.name, $1) }
        let json = String(decoding: (try? JSONEncoder().encode(Dictionary(uniqueKeysWithValues: cols.map { ($0.column, $0.value) }))) ?? Data(), as: UTF8.self)
        let s = insertViolation
        s.reset()
        s.bind(1, plan.schema.name); s.bind(2, key); s.bind(3, bytes: hash); s.bind(4, json)
        s.bind(5, bytes: siteIDs[stamp.site].bytes); s.bind(6, Int64(bitPattern: stamp.hlc))
        try s.run()
        return IntegrityViolation(table: plan.schema.name, key: key, contentHash: hash.map { String(format: "%02x", $0) }.joined(),
                                  values: cols, site: siteIDs[stamp.site], hlc: HLC(rawValue: stamp.hlc))
    }

    private func forgetViolation(_ table: String, _ key: String, _ values: [Value]) throws(ReplicaError) {
        let s = deleteViolation
        s.reset()
        s.bind(1, table); s.bind(2, key); s.bind(3, bytes: Self.contentHash(values))
        try s.run()
    }

    /// SHA-256 of a ledger row's values in canonical form.
    static func contentHash(_ values: [Value]) -> [UInt8] {
        var b = CanonicalBytes()
        for v in values { b.value(v) }
        return Array(SHA256.hash(data: b.bytes))
    }
}

/// A row's identity within one replica: table index and key.
struct RowRef: Hashable {
    var table: Int
    var key: String
}
