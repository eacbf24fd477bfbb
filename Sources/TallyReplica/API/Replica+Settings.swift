import GRDB

extension Replica {
    /// A setting kept in the replica file beside the data (a device's depot URL, its sync
    /// cursor). Names are free text; the engine keeps its own apart.
    public func setting(_ name: String) throws(ReplicaError) -> String? {
        try withRead { db, _ in
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM tally_meta WHERE name = ?"), arguments: ["x." + name])
        }
    }

    /// Stores settings in one transaction; a nil value removes the setting.
    public func setSettings(_ values: [String: String?]) throws(ReplicaError) {
        try withWrite { db, _ in
            for (name, value) in values {
                if let value {
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)").execute(arguments: ["x." + name, value])
                } else {
                    try db.cachedStatement(sql: "DELETE FROM tally_meta WHERE name = ?").execute(arguments: ["x." + name])
                }
            }
        }
    }
}

extension WriteTransaction {
    /// A setting as this transaction sees it (see `Replica.setting`).
    public func setting(_ name: String) throws(ReplicaError) -> String? {
        do { return try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM tally_meta WHERE name = ?"), arguments: ["x." + name]) } catch { throw ReplicaError.wrap(error) }
    }

    /// Stores a setting in this transaction: kept or dropped with the rows written beside it
    /// (a device's signing chain head moves with the entry it signs).
    public func setSetting(_ name: String, _ value: String) throws(ReplicaError) {
        do {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)").execute(arguments: ["x." + name, value])
        } catch {
            throw ReplicaError.wrap(error)
        }
    }
}
