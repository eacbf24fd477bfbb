import GRDB

/// Everything the engine keeps in memory between calls: prepared statements, the site table,
/// the contiguous version vector, the clock and the local sequence number.
///
/// Touched only inside the replica's serialized database closures (one writer per store), which
/// is why it may be a class without locks.
final class EngineState: @unchecked Sendable {  // safe: only used on the DatabaseQueue's serial executor
    let schema: Schema
    let plans: [TablePlan]
    let planByName: [String: TablePlan]
    let localSite: SiteID

    var clock: HybridClock
    /// Local index of our own site in `tally_sites`.
    var localIndex: Int
    /// Site id by local index (index 0 unused).
    var siteIDs: [SiteID]
    var siteIndex: [SiteID: Int]
    /// Highest sequence number seen without gap, by site index.
    var contiguous: [Int: UInt64]
    /// Whether this replica is a device's (`ReplicaRole`), as the file says; reread with the
    /// site table, so a mark made by another process counts at once.
    var isDevice = false
    /// The wall-clock time past which local writes are refused (`Replica.setClockCeiling`), as
    /// the file says; reread with the site table like the role.
    var clockCeiling: UInt64?

    // Engine statements.
    let insertLog: RawStatement
    let logExists: RawStatement
    let updateSiteSeq: RawStatement
    let insertSite: RawStatement
    let setMeta: RawStatement
    let selectConflict: RawStatement
    let upsertConflict: RawStatement
    let deleteConflict: RawStatement
    let insertViolation: RawStatement
    let deleteViolation: RawStatement
    let dataVersionQuery: RawStatement
    /// Whether a held change (`tally_held`) numbers `(site, seq)`; nil while the replica holds
    /// none aside, so the usual replica pays nothing for it.
    var heldProbe: RawStatement?

    /// The scope columns in force (`ReplicaOptions.scopeColumns`): empty means the log's owner
    /// column stays NULL and is not indexed.
    let scopeColumns: [String]

    init(_ db: Database, schema: Schema, localSite: SiteID, clock: HybridClock, scopeColumns: [String] = [],
         sharedOwners: [String: String] = [:]) throws(ReplicaError) {
        self.schema = schema
        self.localSite = localSite
        self.clock = clock
        self.scopeColumns = scopeColumns
        var plans: [TablePlan] = []
        for (i, t) in schema.tables.enumerated() {
            plans.append(try TablePlan(db, index: i, schema: t, scopeColumn: Self.scopeColumn(of: t, among: scopeColumns),
                                       sharedOwner: sharedOwners[t.name]))
        }
        self.plans = plans
        planByName = Dictionary(uniqueKeysWithValues: plans.map { ($0.schema.name, $0) })
        insertLog = try RawStatement(db, "INSERT OR IGNORE INTO tally_log(id, hlc, tbl, key, cl, vals, sc) VALUES (?, ?, ?, ?, ?, ?, ?)")
        logExists = try RawStatement(db, "SELECT 1 FROM tally_log WHERE id = ?")
        updateSiteSeq = try RawStatement(db, "UPDATE tally_sites SET seq = ? WHERE idx = ?")
        insertSite = try RawStatement(db, "INSERT INTO tally_sites(site, seq) VALUES (?, 0)")
        setMeta = try RawStatement(db, "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)")
        selectConflict = try RawStatement(db, "SELECT vals FROM tally_conflicts WHERE tbl = ? AND key = ? AND col = ?")
        upsertConflict = try RawStatement(db, "INSERT OR REPLACE INTO tally_conflicts(tbl, key, col, vals) VALUES (?, ?, ?, ?)")
        deleteConflict = try RawStatement(db, "DELETE FROM tally_conflicts WHERE tbl = ? AND key = ? AND col = ?")
        // One record per distinct content; its writer is the earliest (hlc, site) that wrote it,
        // whatever order the copies arrived in, so every replica records the same writer.
        insertViolation = try RawStatement(db, """
            INSERT INTO tally_violations(tbl, key, content, vals, site, hlc) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(tbl, key, content) DO UPDATE SET site = excluded.site, hlc = excluded.hlc
            WHERE excluded.hlc < tally_violations.hlc OR (excluded.hlc = tally_violations.hlc AND excluded.site < tally_violations.site)
            """)
        deleteViolation = try RawStatement(db, "DELETE FROM tally_violations WHERE tbl = ? AND key = ? AND content = ?")

        dataVersionQuery = try RawStatement(db, "PRAGMA data_version")
        siteIDs = [SiteID(high: 0, low: 0)]
        siteIndex = [:]
        contiguous = [:]
        localIndex = 0
        dataVersion = 0
        try reload(db)
        localIndex = try index(of: localSite)
        // Held changes are made only by this store's one writer (`hold`), so whether the table
        // exists is settled here once, not at every reload.
        let t = try RawStatement(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tally_held'")
        defer { t.finalize() }
        if try t.step() { try prepareHeldProbe(db) }
    }

    /// SQLite's data_version when the caches were last known to match the file.
    var dataVersion: Int64

    /// Reloads the site table, version vector and clock from the file when another connection
    /// (another process: a sync running while the driver records) has committed since: each
    /// process's caches then never lag the file.
    func refreshIfChanged(_ db: Database) throws(ReplicaError) {
        let v = try currentDataVersion(db)
        guard v != dataVersion else { return }
        try reload(db)
    }

    private func currentDataVersion(_ db: Database) throws(ReplicaError) -> Int64 {
        let s = dataVersionQuery
        s.reset()
        defer { s.reset() }
        guard try s.step() else { return 0 }
        return s.int64(0)
    }

    private func reload(_ db: Database) throws(ReplicaError) {
        var ids = [SiteID(high: 0, low: 0)]
        var index: [SiteID: Int] = [:]
        var cont: [Int: UInt64] = [:]
        let rows = try RawStatement(db, "SELECT idx, site, seq FROM tally_sites ORDER BY idx")
        while try rows.step() {
            let idx = Int(rows.int64(0))
            guard let id = SiteID(bytes: rows.bytes(1)) else { throw ReplicaError.storage("tally_sites holds a malformed site id") }
            while ids.count <= idx { ids.append(SiteID(high: 0, low: 0)) }
            ids[idx] = id
            index[id] = idx
            cont[idx] = UInt64(rows.int64(2))
        }
        siteIDs = ids
        siteIndex = index
        contiguous = cont
        let h = try RawStatement(db, "SELECT value FROM tally_meta WHERE name = 'hlc'")
        if try h.step() {
            let stored = HLC(rawValue: UInt64(bitPattern: h.int64(0)))
            if stored > clock.last { clock.absorb(stored) }
        }
        let role = try RawStatement(db, "SELECT value FROM tally_meta WHERE name = '\(ReplicaRole.metaName)'")
        defer { role.finalize() }
        isDevice = try role.step() && role.value(0).text == ReplicaRole.device.rawValue
        let ceiling = try RawStatement(db, "SELECT value FROM tally_meta WHERE name = '\(Self.clockCeilingName)'")
        defer { ceiling.finalize() }
        clockCeiling = try ceiling.step() ? UInt64(clamping: ceiling.int64(0)) : nil
        dataVersion = try currentDataVersion(db)
    }

    func prepareHeldProbe(_ db: Database) throws(ReplicaError) {
        guard heldProbe == nil else { return }
        heldProbe = try RawStatement(db, "SELECT 1 FROM tally_held WHERE site = ? AND seq = ?")
    }

    /// Releases every prepared statement, before the connection closes.
    /// Statements of column queries (`rows(_:where:is:)`), prepared on first use.
    private var queries: [String: RawStatement] = [:]

    /// The prepared statement for `sql`, kept for the connection's life.
    func query(_ db: Database, _ sql: String) throws(ReplicaError) -> RawStatement {
        if let s = queries[sql] {
            s.reset()
            return s
        }
        let s = try RawStatement(db, sql)
        queries[sql] = s
        return s
    }

    func finalizeStatements() {
        for s in queries.values { s.finalize() }
        queries = [:]
        for s in [insertLog, logExists, updateSiteSeq, insertSite, setMeta, selectConflict, upsertConflict, deleteConflict,
                  insertViolation, deleteViolation, dataVersionQuery] { s.finalize() }
        heldProbe?.finalize()
        for p in plans { for s in [p.select, p.store, p.insertNew] + (p.selectOwner.map { [$0] } ?? []) { s.finalize() } }
    }

    /// What a failed transaction must put back.
    struct Snapshot {
        var clock: HybridClock
        var siteIDs: [SiteID]
        var siteIndex: [SiteID: Int]
        var contiguous: [Int: UInt64]
        var dataVersion: Int64
        var clockCeiling: UInt64?
    }

    func snapshot() -> Snapshot {
        Snapshot(clock: clock, siteIDs: siteIDs, siteIndex: siteIndex, contiguous: contiguous, dataVersion: dataVersion, clockCeiling: clockCeiling)
    }

    func restore(_ s: Snapshot) {
        clock = s.clock
        siteIDs = s.siteIDs
        siteIndex = s.siteIndex
        contiguous = s.contiguous
        dataVersion = s.dataVersion
        clockCeiling = s.clockCeiling
    }

    var localSeq: UInt64 { contiguous[localIndex] ?? 0 }

    /// The local index of a site, adding it to `tally_sites` if new.
    func index(of site: SiteID) throws(ReplicaError) -> Int {
        if let i = siteIndex[site] { return i }
        insertSite.reset()
        insertSite.bind(1, bytes: site.bytes)
        try insertSite.run()
        let idx = Int(sqlite3_last_insert_rowid_int(insertSite))
        while siteIDs.count <= idx { siteIDs.append(SiteID(high: 0, low: 0)) }
        siteIDs[idx] = site
        siteIndex[site] = idx
        contiguous[idx] = 0
        return idx
    }

    /// (hlc, site id) order: the register rule's "later".
    @inline(__always) func isLater(_ a: Stamp, than b: Stamp) -> Bool {
        if a.hlc != b.hlc { return a.hlc > b.hlc }
        if a.site == b.site { return false }
        return siteIDs[a.site] > siteIDs[b.site]
    }

    /// The index of a table's scope column: the first of `among` (in that order) the table
    /// has; nil when it has none. A row whose scope column is NULL (a window's entry in a table
    /// scoped by route first) has no owner, and its changes are examined for every owner.
    static func scopeColumn(of t: TableSchema, among names: [String]) -> Int? {
        for name in names { if let i = t.columns.firstIndex(where: { $0.name == name }) { return i } }
        return nil
    }

    /// The owner a change's log row records: the change's own text in the table's scope column;
    /// else, when the change does not set that column, the stored row's (`loaded`, or read now).
    /// (`ingest` also carries owners from earlier changes of the same batch.)
    func owner(of c: ResolvedChange, loaded: RowState? = nil) throws(ReplicaError) -> String? {
        let plan = plans[c.table]
        if let shared = plan.sharedOwner { return shared }
        guard let sc = plan.scopeColumn else { return nil }
        if let v = c.columns.first(where: { $0.0 == sc }) { return v.1.text }
        if let loaded { return loaded.exists ? loaded.values[sc].text : nil }
        return try plan.storedOwner(c.key)
    }

    /// Appends a change to the log with its row's owner; false when the log already holds it
    /// (a duplicate).
    func appendToLog(_ c: ResolvedChange, owner: String?) throws(ReplicaError) -> Bool {
        let s = insertLog
        s.reset()
        s.bind(1, StoreLayout.logID(site: c.site, seq: c.seq))
        s.bind(2, Int64(bitPattern: c.hlc))
        s.bind(3, Int64(c.table))
        s.bind(4, c.key)
        s.bind(5, c.cl)
        s.bind(6, bytes: c.encodedValues())
        s.bind(7, owner.map(Value.text) ?? .null)
        try s.run()
        return s.changes > 0
    }

    func logHolds(site: Int, seq: UInt64) throws(ReplicaError) -> Bool {
        logExists.reset()
        logExists.bind(1, StoreLayout.logID(site: site, seq: seq))
        defer { logExists.reset() }
        return try logExists.step()
    }

    private func heldHolds(_ p: RawStatement, site: Int, seq: UInt64) throws(ReplicaError) -> Bool {
        p.reset()
        p.bind(1, bytes: siteIDs[site].bytes)
        p.bind(2, Int64(seq))
        defer { p.reset() }
        return try p.step()
    }

    /// Moves a site's contiguous mark past every change now held, and stores it.
    func advanceContiguous(site: Int, newSeqs: Set<UInt64>) throws(ReplicaError) {
        let start = contiguous[site] ?? 0
        var c = start
        while true {
            if newSeqs.contains(c + 1) { c += 1; continue }
            if c + 1 <= StoreLayout.maxSeq, try logHolds(site: site, seq: c + 1) { c += 1; continue }
            if let p = heldProbe, try heldHolds(p, site: site, seq: c + 1) { c += 1; continue }
            break
        }
        guard c != start else { return }
        contiguous[site] = c
        updateSiteSeq.reset()
        updateSiteSeq.bind(1, Int64(c))
        updateSiteSeq.bind(2, Int64(site))
        try updateSiteSeq.run()
    }

    func saveClock() throws(ReplicaError) {
        setMeta.reset()
        setMeta.bind(1, "hlc")
        setMeta.bind(2, Int64(bitPattern: clock.last.rawValue))
        try setMeta.run()
    }

    var versionVector: VersionVector {
        var e: [SiteID: UInt64] = [:]
        for (idx, seq) in contiguous where seq > 0 { e[siteIDs[idx]] = seq }
        return VersionVector(e)
    }
}

import GRDBSQLite

/// The rowid of the last insert on the statement's connection.
@inline(__always) func sqlite3_last_insert_rowid_int(_ s: RawStatement) -> Int64 {
    sqlite3_last_insert_rowid(sqlite3_db_handle(s.handle))
}
