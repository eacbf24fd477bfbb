import Foundation
import GRDB

extension Replica {
    /// Gives a closed replica file a new site id, with `settings` stored in the same
    /// transaction. Its data, its change log and the old site's changes stay as they are (the
    /// old site becomes one peer among others); every write from now on is numbered from 1
    /// under the new site.
    ///
    /// For a file that went back to an older copy of itself (a depot restored from a backup):
    /// its peers may already hold changes numbered past where the copy stops, and a new write
    /// under the old site would reuse their numbers with other content. A new site cannot.
    public static func assignNewSite(at path: String, site: SiteID = .random(), settings: [String: String] = [:]) throws(ReplicaError) -> SiteID {
        guard FileManager.default.fileExists(atPath: path) else { throw ReplicaError.notAReplica(path: path, reason: "there is no such file") }
        try PrivateFiles.prepareDatabase(path)
        do {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            try queue.write { db in
                guard try String.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = 'site'") != nil else {
                    throw ReplicaError.notAReplica(path: path, reason: "its site id is missing")
                }
                try db.execute(sql: "UPDATE tally_meta SET value = ? WHERE name = 'site'", arguments: [site.hex])
                try db.execute(sql: "INSERT OR IGNORE INTO tally_sites(site, seq) VALUES (?, 0)", arguments: [Data(site.bytes)])
                for (name, value) in settings {
                    try db.execute(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)", arguments: ["x." + name, value])
                }
            }
            return site
        } catch let e as ReplicaError {
            throw e
        } catch {
            throw ReplicaError.wrap(error)
        }
    }
}

extension Replica {
    /// How far past the depot's confirmed time a device's clock may run before local writes are
    /// refused: a van may be away a few weeks, not years.
    public static let ceilingDays: UInt64 = 30
    static let ceilingMargin: UInt64 = ceilingDays * 86_400_000

    /// Refuses local writes (`ReplicaError.clockBeyondCeiling`) while the wall clock reads more
    /// than `ceilingDays` past `confirmedMilliseconds`, the depot's time at the last sync; nil
    /// lifts the bound. A clock set years ahead by mistake then records nothing instead of
    /// stamping entries (and the replica's clock) with a date far in the future.
    public func setClockCeiling(confirmedMilliseconds: UInt64?) throws(ReplicaError) {
        try withWrite { db, engine in
            let ceiling = confirmedMilliseconds.map { $0 + Self.ceilingMargin }
            if let ceiling {
                try db.execute(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)",
                               arguments: [EngineState.clockCeilingName, Int64(clamping: ceiling)])
            } else {
                try db.execute(sql: "DELETE FROM tally_meta WHERE name = ?", arguments: [EngineState.clockCeilingName])
            }
            engine.clockCeiling = ceiling
        }
    }

    /// The replica's clock: the last timestamp it issued or received.
    public func clockValue() throws(ReplicaError) -> HLC {
        try withRead { _, e in e.clock.last }
    }
}

extension EngineState {
    /// The engine's `tally_meta` entry holding the clock ceiling.
    static let clockCeilingName = "clock_ceiling"

    /// Throws when the wall clock is past the ceiling stored by `Replica.setClockCeiling` (kept
    /// in memory, reread when another process commits: no query per write).
    func checkCeiling() throws(ReplicaError) {
        guard let ceiling = clockCeiling else { return }
        let now = clock.wall.nowMilliseconds()
        if now > ceiling { throw ReplicaError.clockBeyondCeiling(nowMilliseconds: now, ceilingMilliseconds: ceiling) }
    }
}
