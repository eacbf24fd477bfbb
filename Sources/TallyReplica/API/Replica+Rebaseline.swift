import Foundation
import GRDB

extension Replica {
    /// Takes into this replica, a fresh snapshot of the same site, what belonged to the device
    /// alone in its previous file: its settings (depot, credential, signing key and chain head;
    /// those named in `except` are the snapshot's), its blobs, changes kept for a newer schema,
    /// and its clock, so it never stamps a time earlier than one it already used.
    ///
    /// How a device re-baselines after the depot compacted the history it had not seen: the
    /// snapshot brings the state, this brings the rest. The previous file is only read.
    ///
    /// `otherSite`: the snapshot is of a new identity of the device (`SyncClient.recover`), not
    /// of the old file's site. `clock`: false leaves the old file's clock behind (it ran far
    /// ahead of the real time).
    public func carryLocalState(from oldPath: String, exceptSettings except: Set<String>, otherSite: Bool = false,
                                clock: Bool = true) throws(ReplicaError) {
        try withWrite { db, engine in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [oldPath])
            defer { try? db.execute(sql: "DETACH DATABASE old") }
            let site = try String.fetchOne(db, sql: "SELECT value FROM old.tally_meta WHERE name = 'site'")
            guard otherSite || site == engine.localSite.hex else {
                throw ReplicaError.notAReplica(path: oldPath, reason: "it belongs to another site than the new copy")
            }
            let skipped = except.map { "x." + $0 }
            let marks = databaseQuestionMarks(count: max(1, skipped.count))
            try db.execute(sql: "INSERT OR REPLACE INTO main.tally_meta(name, value) SELECT name, value FROM old.tally_meta WHERE name LIKE 'x.%' AND name NOT IN (\(marks))",
                           arguments: StatementArguments(skipped.isEmpty ? [""] : skipped))
            try db.execute(sql: "INSERT OR IGNORE INTO main.tally_blobs SELECT * FROM old.tally_blobs")
            if try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM old.sqlite_master WHERE name = 'tally_deferred'") == true {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS main.tally_deferred(change BLOB NOT NULL, partial INTEGER NOT NULL)")
                try db.execute(sql: "INSERT INTO main.tally_deferred SELECT * FROM old.tally_deferred")
            }
            if clock, let last = try Int64.fetchOne(db, sql: "SELECT value FROM old.tally_meta WHERE name = 'hlc'") {
                engine.clock.absorb(HLC(rawValue: UInt64(bitPattern: last)))
                try engine.saveClock()
            }
        }
    }
}
