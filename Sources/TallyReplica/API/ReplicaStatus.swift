import Foundation
import GRDB

/// A summary of a replica for people and scripts (`tally replica status`).
public struct ReplicaStatus: Sendable, Codable, Equatable {
    public struct TableCount: Sendable, Codable, Equatable {
        public var table: String
        public var kind: String
        public var live: Int
        public var deleted: Int
    }

    public var path: String
    public var site: String
    public var schemaVersion: Int
    /// The clock's last value, as 16 hex digits, and in human form.
    public var clock: String
    public var clockTime: String
    public var versionVector: VersionVector
    public var changes: Int
    public var tables: [TableCount]
    public var conflicts: Int
    public var violations: Int
    public var blobs: Int
    public var blobBytes: Int64
    /// Pulled changes waiting for this device to be updated to a newer schema.
    public var deferred: Int = 0
    public var digest: String
}

extension Replica {
    public func status() throws(ReplicaError) -> ReplicaStatus {
        let digest = try digest()
        return try withRead { db, e in
            var tables: [ReplicaStatus.TableCount] = []
            for p in e.plans {
                let q = StoreLayout.quote(p.schema.name)
                let live = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(q) WHERE tally_cl % 2 = 1") ?? 0
                let all = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(q)") ?? 0
                tables.append(.init(table: p.schema.name, kind: p.schema.kind.rawValue, live: live, deleted: all - live))
            }
            let blobRow = try Row_.fetchOne(db, sql: "SELECT count(*), coalesce(sum(size), 0) FROM tally_blobs")
            return ReplicaStatus(
                path: path, site: site.hex, schemaVersion: schema.version,
                clock: e.clock.last.hex, clockTime: e.clock.last.description,
                versionVector: e.versionVector,
                changes: try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_log") ?? 0,
                tables: tables,
                conflicts: try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_conflicts") ?? 0,
                violations: try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_violations") ?? 0,
                blobs: blobRow?[0] ?? 0, blobBytes: blobRow?[1] ?? 0,
                deferred: try db.tableExists("tally_deferred") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_deferred") ?? 0 : 0,
                digest: digest)
        }
    }
}
