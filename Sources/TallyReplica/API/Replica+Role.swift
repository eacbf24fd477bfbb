import GRDB

/// Whether a replica is the depot's or a device's: a device may not write what the depot
/// decides (`Writer.depot`). Kept in the file, so every program that opens it (the CLI, a sync,
/// a script on the engine) holds the same rule.
///
/// A file says `device` once it is made from the depot's snapshot (`exportSnapshot`: every join
/// and every re-baseline) or marked (`markAsDevice`, for files joined before the mark existed).
/// A file without the mark (the depot's own, a demo, a test) writes everything. The mark is a
/// convenience for honest devices, not a defence: a person with the file can remove it, which
/// is why the depot checks every push itself.
public enum ReplicaRole: String, Sendable {
    case depot
    case device

    /// The engine's `tally_meta` entry holding the role.
    static let metaName = "role"
}

extension Replica {
    /// True for a device's replica: local writes to what the depot decides are refused.
    public var isDevice: Bool {
        get throws(ReplicaError) { try withRead { _, e in e.isDevice } }
    }

    /// Marks this replica as a device's. Idempotent.
    public func markAsDevice() throws(ReplicaError) {
        try withWrite { db, engine in
            guard !engine.isDevice else { return }
            try db.execute(sql: "INSERT OR REPLACE INTO tally_meta(name, value) VALUES (?, ?)",
                           arguments: [ReplicaRole.metaName, ReplicaRole.device.rawValue])
            engine.isDevice = true
        }
    }
}
