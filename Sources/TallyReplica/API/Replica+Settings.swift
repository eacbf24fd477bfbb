import GRDB

extension Replica {
    /// A setting kept in the replica file beside the data (a device's depot URL, its sync
    /// cursor). Names are free text; the engine keeps its own apart.
    public func setting(_ name: String) throws(ReplicaError) -> String? {
        try withRead { db, _ in
            try String.fetchOne(db, sql: "SELECT value FROM tally_meta WHERE name = ?", arguments: ["x." + name])
        }
    }

    /// Stores settings in one transaction; a nil value removes the setting.
    public func setSettings(_ values: [String: String?]) throws(ReplicaError) {
        try withWrite { db, _ in
            for (name, value) in values {
                if let value {
                    try db.execute(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)", arguments: ["x." + name, value])
                } else {
                    try db.execute(sql: "DELETE FROM tally_meta WHERE name = ?", arguments: ["x." + name])
                }
            }
        }
    }
}
