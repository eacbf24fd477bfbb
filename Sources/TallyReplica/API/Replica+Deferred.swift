import Foundation
import GRDB

/// Changes from a newer schema, kept until this replica's schema has what they name.
///
/// Schemas only grow (tables and columns are appended), so a device still on the previous
/// version meets changes it cannot store yet. Refusing them would stop its sync; dropping them
/// would lose them for good, since its pull cursor moves past them. So they wait here, whole,
/// and are merged when the device is updated and its replica opened with the newer schema:
/// a record's known columns are merged at once (its change is in the log), a ledger row or a
/// row of an unknown table only then (its change enters the log then).
extension Replica {
    /// Merges every kept change this replica's schema can now hold; returns how many.
    @discardableResult
    public func replayDeferred() throws(ReplicaError) -> Int {
        // Called at every sync: nothing waiting (the usual case) costs a read, not a write.
        guard try deferredCount() > 0 else { return 0 }
        return try withWrite { db, engine in
            guard try db.tableExists("tally_deferred") else { return 0 }
            var ready: [(rowid: Int64, change: Change, partial: Bool)] = []
            for row in try Row_.fetchAll(db, sql: "SELECT rowid, change, partial FROM tally_deferred ORDER BY rowid") {
                let data: Data = row["change"]
                guard let c = try? JSONDecoder().decode(Change.self, from: data) else { continue }
                if case .none = engine.unknownParts(of: c) { ready.append((row["rowid"], c, row["partial"] as Int64 != 0)) }
            }
            guard !ready.isEmpty else { return 0 }
            var report = ApplyReport()
            var fresh: [ResolvedChange] = []
            for r in ready {
                let rc = try engine.resolve(r.change, checkDrift: false)
                if r.partial {
                    // Already in the log with its known columns: merge the rest into the row.
                    try engine.merge([rc], into: engine.plans[rc.table], report: &report)
                } else {
                    fresh.append(rc)
                }
            }
            try engine.ingest(fresh, report: &report)
            for r in ready { try db.execute(sql: "DELETE FROM tally_deferred WHERE rowid = ?", arguments: [r.rowid]) }
            logger.info("merged changes kept for a newer schema", metadata: ["count": "\(ready.count)"])
            return ready.count
        }
    }

    /// How many changes wait for a newer schema.
    public func deferredCount() throws(ReplicaError) -> Int {
        try withRead { db, _ in
            try db.tableExists("tally_deferred") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_deferred") ?? 0 : 0
        }
    }

    static func keepDeferred(_ db: Database, _ c: Change, partial: Bool) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS tally_deferred(change BLOB NOT NULL, partial INTEGER NOT NULL)")
        try db.execute(sql: "INSERT INTO tally_deferred(change, partial) VALUES (?, ?)",
                       arguments: [try JSONEncoder().encode(c), partial ? 1 : 0])
    }
}

/// What of a change this replica's schema lacks.
enum UnknownParts {
    /// Nothing: the change fits.
    case none
    /// The table, or a column of a ledger row (whose content is merged whole or not at all).
    case whole
    /// Some columns of a record row: the change with only the known ones.
    case partial(Change)
}

extension EngineState {
    func unknownParts(of c: Change) -> UnknownParts {
        guard let plan = planByName[c.table] else { return .whole }
        let known = c.values.filter { plan.columnIndex[$0.column] != nil }
        if known.count == c.values.count { return .none }
        if plan.isLedger { return .whole }
        var stripped = c
        stripped.values = known
        return .partial(stripped)
    }
}
