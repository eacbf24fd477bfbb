import Foundation
import GRDB

/// What a compaction removed.
public struct CompactionReport: Sendable, Codable, Equatable {
    /// Change-log entries at or below the horizon, removed.
    public var logEntries = 0
    /// Deleted rows (tombstones) whose delete is at or below the horizon, removed.
    public var tombstones = 0
    /// The file's size before and after (bytes, write-ahead log included).
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0

    public init() {}
}

extension Replica {
    /// Removes the change-log entries at or below `horizon` (for each site, the sequence number
    /// every peer has already examined) and the tombstones whose every change is gone with
    /// them. Rows, conflicts, violations and blobs stay: the state and its digest do not change.
    ///
    /// Only safe below what every peer that pulls from this replica has acknowledged: a peer
    /// whose cursor is below the horizon would miss what was removed (the depot refuses such a
    /// peer; see `DepotCompaction`). `dryRun` counts without removing.
    public func compact(below horizon: VersionVector, dryRun: Bool = false) throws(ReplicaError) -> CompactionReport {
        var report = CompactionReport()
        report.bytesBefore = fileBytes()
        try withWrite { db, e in
            for (site, idx) in e.siteIndex {
                let upTo = min(horizon[site], e.contiguous[idx] ?? 0)
                guard upTo > 0 else { continue }
                let range: [DatabaseValueConvertible] = [StoreLayout.logID(site: idx, seq: 0), StoreLayout.logID(site: idx, seq: upTo)]
                report.logEntries += try count(db, "FROM tally_log WHERE id > ? AND id <= ?", StatementArguments(range), dryRun: dryRun)
            }
            // A tombstone must outlive its delete only while a peer may still need the delete;
            // with no change of its row left in the log, every peer has it.
            for (i, plan) in e.plans.enumerated() where plan.schema.deletable {
                let t = StoreLayout.quote(plan.schema.name), k = StoreLayout.quote(plan.schema.key)
                // NOT IN: the table's log keys are gathered once (the log has no (tbl, key) index).
                let orphaned = "FROM \(t) WHERE tally_cl % 2 = 0 AND \(k) NOT IN (SELECT key FROM tally_log WHERE tbl = ?)"
                report.tombstones += try count(db, orphaned, [i], dryRun: dryRun)
            }
        }
        if !dryRun && report.logEntries + report.tombstones > 0 {
            do {
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "VACUUM")
                    _ = try db.checkpoint(.truncate)
                }
            } catch { throw ReplicaError.wrap(error) }
        }
        report.bytesAfter = dryRun ? report.bytesBefore : fileBytes()
        return report
    }

    /// Rows matching `clause` (`FROM … WHERE …`): counted on a dry run, else deleted.
    private func count(_ db: Database, _ clause: String, _ arguments: StatementArguments, dryRun: Bool) throws -> Int {
        if dryRun { return try Int.fetchOne(db, sql: "SELECT count(*) \(clause)", arguments: arguments) ?? 0 }
        try db.execute(sql: "DELETE \(clause)", arguments: arguments)
        return db.changesCount
    }

    /// The file and its write-ahead log, in bytes.
    func fileBytes() -> Int64 {
        ["", "-wal"].reduce(Int64(0)) { sum, suffix in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
        }
    }
}
