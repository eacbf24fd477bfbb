import Foundation
import GRDB
import Logging
import TallyProtocol
import TallyReplica

/// The depot's list of enrolled devices and its audit log, in `registry.sqlite` beside the
/// depot's replica. Read on every request, so a revocation made by another process (the CLI)
/// takes effect at once.
public final class DeviceRegistry: Sendable {
    let queue: DatabaseQueue
    let clock: any WallClock

    public static func create(at path: String, clock: any WallClock) throws -> DeviceRegistry {
        let r = try DeviceRegistry(path: path, clock: clock)
        try r.queue.write { db in
            try db.execute(sql: """
                CREATE TABLE devices(name TEXT PRIMARY KEY NOT NULL, id TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                                     scope TEXT, secret_hash BLOB NOT NULL, site TEXT UNIQUE,
                                     enrolled_at TEXT NOT NULL, revoked_at TEXT, last_sync_at TEXT, last_skew_ms INTEGER,
                                     public_key TEXT, cursor TEXT, best_cursor TEXT);
                CREATE TABLE audit(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, device TEXT NOT NULL,
                                   action TEXT NOT NULL, detail TEXT NOT NULL);
                CREATE TABLE device_sites(site TEXT PRIMARY KEY NOT NULL, device TEXT NOT NULL);
                """)
        }
        return r
    }

    public init(path: String, clock: any WallClock) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Credential hashes and the audit log: readable by the depot's user only.
        try PrivateFiles.prepareDatabase(path)
        queue = try DatabaseQueue(path: path, configuration: config)
        self.clock = clock
        // Registries made before device keys gain the column.
        try queue.write { db in
            let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('devices')")
            if !columns.isEmpty && !columns.contains("public_key") { try db.execute(sql: "ALTER TABLE devices ADD COLUMN public_key TEXT") }
            // And before compaction, the cursor each device last pulled with.
            if !columns.isEmpty && !columns.contains("cursor") { try db.execute(sql: "ALTER TABLE devices ADD COLUMN cursor TEXT") }
            // And before stale writes were judged by the highest cursor a device showed.
            if !columns.isEmpty && !columns.contains("best_cursor") { try db.execute(sql: "ALTER TABLE devices ADD COLUMN best_cursor TEXT") }
            // And every site a device was ever bound to (a device set up again under a new
            // identity leaves its old site's changes behind, held ones included).
            if !columns.isEmpty, try !db.tableExists("device_sites") {
                try db.execute(sql: """
                    CREATE TABLE device_sites(site TEXT PRIMARY KEY NOT NULL, device TEXT NOT NULL);
                    INSERT OR IGNORE INTO device_sites(site, device) SELECT site, name FROM devices WHERE site IS NOT NULL;
                    """)
            }
        }
    }

    var now: String { Timestamp.iso(clock.nowMilliseconds()) }

    /// Enrolls a device and returns its credential, which is shown once and never stored.
    public func enroll(name: String, role: DeviceRole, scope: String?) throws -> (DeviceRecord, Credential) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 64 else { throw DepotError.refused("a device name is 1 to 64 characters") }
        if role != .accountant && (scope ?? "").isEmpty {
            throw DepotError.refused(role == .van ? "a van needs its route: --route R07" : "a window needs its kind: --window KIND")
        }
        let credential = Credential.generate()
        let at = now
        try queue.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM devices WHERE name = ?)", arguments: [trimmed]) == true {
                throw DepotError.refused("a device named '\(trimmed)' is already enrolled; pick another name, or revoke the old one first")
            }
            try db.execute(sql: "INSERT INTO devices(name, id, role, scope, secret_hash, enrolled_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [trimmed, credential.id, role.rawValue, role == .accountant ? nil : scope, Data(Credential.hash(credential.secret)), at])
            try Self.audit(db, at, trimmed, "enroll", "role \(role.rawValue)" + (scope.map { ", scope \($0)" } ?? ""))
        }
        return (try device(named: trimmed)!, credential)  // safe: inserted just above
    }

    /// Revokes a device at once: its next request is refused.
    public func revoke(name: String) throws {
        let at = now
        try queue.write { db in
            guard let revoked = try GRDB.Row.fetchOne(db, sql: "SELECT revoked_at FROM devices WHERE name = ?", arguments: [name]) else {
                throw DepotError.refused("no device named '\(name)' is enrolled; `tally depot devices` lists them")
            }
            if (revoked[0] as String?) != nil { throw DepotError.refused("'\(name)' was already revoked") }
            try db.execute(sql: "UPDATE devices SET revoked_at = ? WHERE name = ?", arguments: [at, name])
            try Self.audit(db, at, name, "revoke", "credential revoked")
        }
    }

    /// Issues a device a new credential: the old one is refused from now on; the device keeps
    /// its replica, site and signing key (give it the new token with `tally credential`).
    public func rotate(name: String) throws -> Credential {
        let credential = Credential.generate()
        let at = now
        try queue.write { db in
            guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT revoked_at FROM devices WHERE name = ?", arguments: [name]) else {
                throw DepotError.refused("no device named '\(name)' is enrolled; `tally depot devices` lists them")
            }
            if (row[0] as String?) != nil { throw DepotError.refused("'\(name)' is revoked; enroll the device anew instead") }
            try db.execute(sql: "UPDATE devices SET id = ?, secret_hash = ? WHERE name = ?",
                           arguments: [credential.id, Data(Credential.hash(credential.secret)), name])
            try Self.audit(db, at, name, "rotate", "new credential \(credential.id)…; the old one is refused")
        }
        return credential
    }

    public func devices() throws -> [DeviceRecord] {
        try queue.read { db in try GRDB.Row.fetchAll(db, sql: "SELECT * FROM devices ORDER BY name").map(Self.record) }
    }

    public func device(named name: String) throws -> DeviceRecord? {
        try queue.read { db in try GRDB.Row.fetchOne(db, sql: "SELECT * FROM devices WHERE name = ?", arguments: [name]).map(Self.record) }
    }

    /// The device a bearer token belongs to, or the reason it is refused.
    public func authenticate(_ token: String?) throws(WireError) -> DeviceRecord {
        guard let token, !token.isEmpty else { throw .missingCredential }
        guard let cred = Credential(token: token) else { throw .badCredential }
        let found: (DeviceRecord, [UInt8])?
        do {
            found = try queue.read { db in
                try GRDB.Row.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [cred.id]).map { (Self.record($0), Array($0["secret_hash"] as Data)) }
            }
        } catch {
            throw StorageFailure.wire(error, "the depot could not read its device list")
        }
        guard let (device, hash) = found, Credential.constantTimeEqual(hash, Credential.hash(cred.secret)) else { throw .badCredential }
        guard !device.isRevoked else { throw .revoked }
        return device
    }

    /// Binds a device's credential to the replica it joined with, and registers the public key
    /// its entries are verified with (kept when the same replica joins again). Joining again
    /// with the same site is a no-op. With `allowRebind` (the old replica never pushed
    /// anything: a join that died half-way), a new site replaces the old one.
    public func bind(device: String, site: String, allowRebind: Bool = false, publicKey: String? = nil) throws(WireError) {
        do {
            try queue.write { db in
                let current = try String.fetchOne(db, sql: "SELECT site FROM devices WHERE name = ?", arguments: [device])
                if let current, current != site, !allowRebind {
                    throw WireError.conflict("this credential already belongs to another replica; ask the depot to enroll this device anew")
                }
                if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM devices WHERE site = ? AND name <> ?)", arguments: [site, device]) == true {
                    throw WireError.conflict("this replica is already joined as another device")
                }
                try db.execute(sql: "UPDATE devices SET site = ? WHERE name = ?", arguments: [site, device])
                try db.execute(sql: "INSERT OR IGNORE INTO device_sites(site, device) VALUES (?, ?)", arguments: [site, device])
                if current != site {
                    try db.execute(sql: "UPDATE devices SET public_key = ? WHERE name = ?", arguments: [publicKey, device])
                    try Self.audit(db, self.now, device, current == nil ? "join" : "rejoin",
                                   "site \(site)" + (publicKey.map { ", signing key \($0.prefix(16))…" } ?? ", no signing key"))
                } else if let publicKey {
                    try db.execute(sql: "UPDATE devices SET public_key = coalesce(public_key, ?) WHERE name = ?", arguments: [publicKey, device])
                }
            }
        } catch let e as WireError {
            throw e
        } catch {
            throw StorageFailure.wire(error, "the depot could not record the join")
        }
    }

    /// Every site each device was ever bound to, by site hex (its current one among them).
    public func siteHistory() throws -> [String: String] {
        try queue.read { db in
            guard try db.tableExists("device_sites") else { return [:] }
            let rows = try GRDB.Row.fetchAll(db, sql: "SELECT site, device FROM device_sites")
            return Dictionary(rows.map { ($0["site"] as String, $0["device"] as String) }) { a, _ in a }
        }
    }

    /// Records a sync request: when, the device's clock skew, and for a pull the cursor it
    /// sent (every change below it, it has applied; the depot compacts only below what every
    /// device has applied).
    public func recordSync(device: String, skewMs: Int64?, cursor: VersionVector? = nil) {
        let json = cursor.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        try? queue.write { db in
            try db.execute(sql: "UPDATE devices SET last_sync_at = ?, last_skew_ms = coalesce(?, last_skew_ms), cursor = coalesce(?, cursor) WHERE name = ?",
                           arguments: [now, skewMs, json, device])
            guard let cursor else { return }
            // The highest cursor shown, site by site: never lowered by a late or replayed request.
            let shown = try String.fetchOne(db, sql: "SELECT best_cursor FROM devices WHERE name = ?", arguments: [device])
                .flatMap { try? JSONDecoder().decode(VersionVector.self, from: Data($0.utf8)) }
            let best = shown.map { $0.merged(with: cursor) } ?? cursor
            try db.execute(sql: "UPDATE devices SET best_cursor = ? WHERE name = ?",
                           arguments: [String(decoding: try JSONEncoder().encode(best), as: UTF8.self), device])
        }
    }

    /// The highest cursor a device has shown in any request, site by site (nil: none yet). What
    /// it has applied is at least this, however late a request of its arrives.
    public func highestCursor(of device: String) throws -> VersionVector? {
        try queue.read { db in
            try String.fetchOne(db, sql: "SELECT best_cursor FROM devices WHERE name = ?", arguments: [device])
        }.flatMap { try? JSONDecoder().decode(VersionVector.self, from: Data($0.utf8)) }
    }

    /// Forgets the cursors a device showed: it took a new identity from a snapshot, whose
    /// cursor is recorded next.
    public func resetCursors(of device: String) {
        try? queue.write { db in
            try db.execute(sql: "UPDATE devices SET cursor = NULL, best_cursor = NULL WHERE name = ?", arguments: [device])
        }
    }

    /// Each joined, unrevoked device's last pull cursor (nil: it never pulled) and when it
    /// was last heard from (its last sync, else its enrolment).
    public func cursors() throws -> [(device: String, cursor: VersionVector?, lastSeen: Date?)] {
        try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT name, cursor, coalesce(last_sync_at, enrolled_at) AS seen FROM devices WHERE revoked_at IS NULL AND site IS NOT NULL ORDER BY name").map { r in
                let text: String? = r["cursor"]
                let seen: String? = r["seen"]
                return (r["name"], text.flatMap { try? JSONDecoder().decode(VersionVector.self, from: Data($0.utf8)) }, seen.flatMap(Timestamp.date))
            }
        }
    }

    public func audit(device: String, action: String, detail: String) {
        audit(device: device, action: action, details: [detail])
    }

    /// Several lines of one kind, in one transaction.
    public func audit(device: String, action: String, details: [String]) {
        let at = now
        try? queue.write { db in for d in details { try Self.audit(db, at, device, action, d) } }
    }

    /// The audit lines of these actions (of one device, if given), oldest first, all of them.
    public func auditLog(actions: [String], device: String? = nil) throws -> [AuditEntry] {
        try queue.read { db in
            let marks = actions.map { _ in "?" }.joined(separator: ", ")
            return try GRDB.Row.fetchAll(db, sql: "SELECT at, device, action, detail FROM audit WHERE action IN (\(marks)) AND (? IS NULL OR device = ?) ORDER BY seq",
                                         arguments: StatementArguments(actions + [device, device])).map {
                AuditEntry(at: $0[0], device: $0[1], action: $0[2], detail: $0[3])
            }
        }
    }

    public func auditLog(limit: Int = 1000) throws -> [AuditEntry] {
        try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT at, device, action, detail FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit]).map {
                AuditEntry(at: $0[0], device: $0[1], action: $0[2], detail: $0[3])
            }
        }
    }

    static func audit(_ db: Database, _ at: String, _ device: String, _ action: String, _ detail: String) throws {
        try db.execute(sql: "INSERT INTO audit(at, device, action, detail) VALUES (?, ?, ?, ?)", arguments: [at, device, action, detail])
    }

    static func record(_ r: GRDB.Row) -> DeviceRecord {
        DeviceRecord(name: r["name"], id: r["id"], role: DeviceRole(rawValue: r["role"]) ?? .van, scope: r["scope"], site: r["site"],
                     enrolledAt: r["enrolled_at"], revokedAt: r["revoked_at"], lastSyncAt: r["last_sync_at"], lastSkewMs: r["last_skew_ms"],
                     publicKey: r["public_key"])
    }
}

/// ISO-8601 UTC timestamps for records people read.
enum Timestamp {
    static func iso(_ ms: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// A timestamp `iso` wrote, read back.
    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
}
