extension Replica {
    /// The first of `changes` whose (site, sequence number) this replica already holds with other
    /// content: the writer numbered two different writes alike, which happens when its file went
    /// back to an older copy (restored from a backup, a lost `-wal`) and it wrote on from there.
    ///
    /// A true duplicate (a retried push) carries the same clock, row and values as the logged
    /// change and is not returned. A change below the log's compacted history cannot be
    /// compared whole: a ledger entry is then checked against the stored row (absent, or other
    /// content, is a reuse); a record change is taken as a duplicate.
    public func firstReused(in changes: some Collection<Change>) throws(ReplicaError) -> Change? {
        try withRead { db, e in
            let s = try e.query(db, "SELECT hlc, tbl, key, cl, vals FROM tally_log WHERE id = ?")
            defer { s.reset() }
            for c in changes {
                guard let site = e.siteIndex[c.site], let plan = e.planByName[c.table] else { continue }
                let held = try c.seq <= e.contiguous[site] ?? 0 || e.logHolds(site: site, seq: c.seq)
                guard held else { continue }
                s.reset()
                s.bind(1, StoreLayout.logID(site: site, seq: c.seq))
                if try s.step() {
                    let logged = try ResolvedChange.decodeValues(s.bytes(4))
                    let same = UInt64(bitPattern: s.int64(0)) == c.hlc.rawValue && Int(s.int64(1)) == plan.index
                        && s.text(2) == c.key && s.int64(3) == c.cl && Self.sameValues(logged, c.values, plan: plan)
                    if !same { return c }
                } else if plan.isLedger {
                    let stored = try plan.load(c.key)
                    guard stored.exists else { return c }
                    let incoming = plan.schema.columns.map { col in c.value(col.name) ?? .null }
                    if stored.values != incoming { return c }
                }
            }
            return nil
        }
    }

    /// Whether logged (column index, value) pairs are the values a change names.
    private static func sameValues(_ logged: [(Int, Value)], _ values: [ColumnValue], plan: TablePlan) -> Bool {
        guard logged.count == values.count else { return false }
        for (i, v) in logged {
            guard i < plan.schema.columns.count, values.first(where: { $0.column == plan.schema.columns[i].name })?.value == v else {
                return false
            }
        }
        return true
    }
}
