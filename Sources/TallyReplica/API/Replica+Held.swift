import Foundation
import GRDB

/// A change received but held out of the merge until a person has looked at it.
///
/// Why: a device that comes back after the depot compacted the history it had not seen wrote
/// its record changes against a picture of the data weeks old. Merging them by their clocks
/// could quietly put back what others corrected since; dropping them loses what the driver did.
/// So the replica keeps them aside, whole, counts them as received (the sender's sequence moves
/// on and it does not send them again), and neither merges nor relays them until they are
/// released, as a new write of this replica, or discarded.
public struct HeldChange: Sendable, Equatable, Codable {
    public var change: Change
    /// Why it is held, in words for the reviewer.
    public var reason: String
    /// When it arrived (ISO 8601, UTC).
    public var heldAt: String

    static func time(_ ms: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

extension Replica {
    /// Changes held for review, oldest first.
    public func heldChanges(limit: Int = .max) throws(ReplicaError) -> [HeldChange] {
        try withRead { db, _ in
            guard try db.tableExists("tally_held") else { return [] }
            return try Row_.fetchAll(db, sql: "SELECT change, reason, held_at FROM tally_held ORDER BY held_at, site, seq LIMIT ?",
                                     arguments: [Int64(clamping: limit)]).map { row in
                HeldChange(change: try JSONDecoder().decode(Change.self, from: row["change"] as Data),
                           reason: row["reason"], heldAt: row["held_at"])
            }
        }
    }

    /// How many changes are held for review.
    public func heldCount() throws(ReplicaError) -> Int {
        try withRead { db, _ in
            try db.tableExists("tally_held") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_held") ?? 0 : 0
        }
    }

    /// Applies a held change as a new write of this replica (a new clock value, so it takes
    /// effect over what was written before it and is a change every peer in scope receives) and
    /// stops holding it. A column its own writer wrote again later (the same site, a later
    /// stamp: the van's next note, say) keeps that value: releasing the van's old change must not
    /// undo the van's own later one. Later writes of others are what the reviewer decides over.
    /// Returns the held change as applied (the columns left out, and nothing written when none
    /// is left), or nil when nothing was held so.
    @discardableResult
    /// `sameWriter`: other sites of the same writer (a device that took a new identity), whose
    /// later writes count as its own.
    public func releaseHeld(site: SiteID, seq: UInt64, sameWriter: Set<SiteID> = []) throws(ReplicaError) -> Change? {
        try withWrite { db, engine in
            guard let held = try Self.held(db, site: site, seq: seq) else { return nil }
            let tx = WriteTransaction(engine: engine, db: db)
            var c = held.change
            if let plan = engine.planByName[c.table] {
                let writers = Set(([c.site] + sameWriter).compactMap { engine.siteIndex[$0] })
                let stored = try plan.load(c.key)
                c.values = c.values.filter { v in
                    guard stored.exists, let i = plan.columnIndex[v.column], plan.schema.columns[i].order == nil else { return true }
                    let s = stored.stamps[i]
                    return !(writers.contains(s.site) && s.hlc > c.hlc.rawValue)
                }
            }
            if c.isDelete {
                try tx.delete(c.table, key: c.key)
            } else if !c.values.isEmpty {
                try tx.upsert(c.table, key: c.key, Dictionary(c.values.map { ($0.column, $0.value) }) { $1 })
            }
            try Self.forgetHeld(db, site: site, seq: seq)
            try tx.finish()
            return tx.changes.last ?? c
        }
    }

    /// Stops holding a change without applying it; returns it, or nil when nothing was held so.
    @discardableResult
    public func discardHeld(site: SiteID, seq: UInt64) throws(ReplicaError) -> HeldChange? {
        try withWrite { db, _ in
            guard let held = try Self.held(db, site: site, seq: seq) else { return nil }
            try Self.forgetHeld(db, site: site, seq: seq)
            return held
        }
    }

    static func held(_ db: Database, site: SiteID, seq: UInt64) throws -> HeldChange? {
        guard try db.tableExists("tally_held"),
              let row = try Row_.fetchOne(db, sql: "SELECT change, reason, held_at FROM tally_held WHERE site = ? AND seq = ?",
                                          arguments: [Data(site.bytes), Int64(seq)])
        else { return nil }
        return HeldChange(change: try JSONDecoder().decode(Change.self, from: row["change"] as Data), reason: row["reason"], heldAt: row["held_at"])
    }

    static func forgetHeld(_ db: Database, site: SiteID, seq: UInt64) throws {
        // The sequence stays counted as received: the sender must not send it again.
        try db.execute(sql: "DELETE FROM tally_held WHERE site = ? AND seq = ?", arguments: [Data(site.bytes), Int64(seq)])
    }
}

extension EngineState {
    /// Keeps a received change aside instead of merging it; returns its site's local index, or
    /// nil for one already received (a duplicate). The change is checked like any other first.
    func hold(_ db: Database, _ c: Change, reason: String, at: String) throws(ReplicaError) -> Int? {
        let r = try resolve(c, checkDrift: false)
        if c.seq <= contiguous[r.site] ?? 0 { return nil }
        if try logHolds(site: r.site, seq: c.seq) { return nil }
        do {
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS tally_held(site BLOB NOT NULL, seq INTEGER NOT NULL, change BLOB NOT NULL,
                    reason TEXT NOT NULL, held_at TEXT NOT NULL, PRIMARY KEY(site, seq)) WITHOUT ROWID
                """)
            try prepareHeldProbe(db)
            try db.execute(sql: "INSERT OR IGNORE INTO tally_held(site, seq, change, reason, held_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Data(c.site.bytes), Int64(c.seq), try JSONEncoder().encode(c), reason, at])
            return db.changesCount > 0 ? r.site : nil
        } catch let e as ReplicaError {
            throw e
        } catch {
            throw ReplicaError.wrap(error)
        }
    }
}
