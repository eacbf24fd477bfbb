import Foundation
import GRDB

/// Which rows of a table go into a snapshot.
public enum SnapshotRows: Sendable, Equatable {
    case all
    case none
    /// Rows whose `column` equals `value`.
    case matching(column: String, value: String)
}

extension Replica {
    /// Builds a new replica file for another site holding part of this replica's state: how a
    /// new device starts with a million rows in seconds instead of pulling them change by change.
    ///
    /// The file holds the chosen rows with their clocks, the conflict and violation records of
    /// those rows, and the site table; no change log and no blobs. It is marked as a device's
    /// (`ReplicaRole`). Returns the version vector the
    /// snapshot reflects: the receiver pulls changes after it.
    public func exportSnapshot(to path: String, for site: SiteID, rows: (TableSchema) -> SnapshotRows,
                               options: ReplicaOptions) throws(ReplicaError) -> VersionVector {
        _ = try Replica.create(at: path, schema: schema, site: site, options: options)
        let plans = engine.plans.map { ($0.schema, rows($0.schema)) }
        do {
            return try queue.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS snap", arguments: [path])
                defer { try? db.execute(sql: "DETACH DATABASE snap") }
                var vv = VersionVector()
                try db.inTransaction {
                    try db.execute(sql: "DELETE FROM snap.tally_sites")
                    try db.execute(sql: "INSERT INTO snap.tally_sites(idx, site, seq) SELECT idx, site, 0 FROM main.tally_sites")
                    let own = engine.siteIndex[site]
                    if let own {
                        // A device re-baselining keeps counting from what this replica holds of it.
                        try db.execute(sql: "UPDATE snap.tally_sites SET seq = ? WHERE idx = ?", arguments: [engine.contiguous[own] ?? 0, own])
                    } else {
                        try db.execute(sql: "INSERT INTO snap.tally_sites(site, seq) VALUES (?, 0)", arguments: [Data(site.bytes)])
                    }
                    for (t, choice) in plans {
                        let q = StoreLayout.quote(t.name)
                        switch choice {
                        case .none: continue
                        case .all:
                            try db.execute(sql: "INSERT INTO snap.\(q) SELECT * FROM main.\(q)")
                        case .matching(let column, let value):
                            guard t.columnIndex(column) != nil else { continue }
                            try db.execute(sql: "INSERT INTO snap.\(q) SELECT * FROM main.\(q) WHERE \(StoreLayout.quote(column)) = ?", arguments: [value])
                        }
                        let key = StoreLayout.quote(t.key)
                        for side in ["tally_conflicts", "tally_violations"] {
                            try db.execute(sql: "INSERT INTO snap.\(side) SELECT * FROM main.\(side) WHERE tbl = ? AND key IN (SELECT \(key) FROM snap.\(q))",
                                           arguments: [t.name])
                        }
                    }
                    try db.execute(sql: "UPDATE snap.tally_meta SET value = ? WHERE name = 'hlc'", arguments: [Int64(bitPattern: engine.clock.last.rawValue)])
                    // A snapshot is made for a device: it may not write what the depot decides.
                    try db.execute(sql: "INSERT OR REPLACE INTO snap.tally_meta(name, value) VALUES (?, ?)",
                                   arguments: [ReplicaRole.metaName, ReplicaRole.device.rawValue])
                    vv = engine.versionVector
                    return .commit
                }
                return vv
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw ReplicaError.wrap(error)
        }
    }
}
