import Foundation
import GRDBSQLite
import TallyProtocol
import TallyReplica
import TallyToolSupport

/// The baselines the sync figures are set beside, measured in the same run: what raw SQLite
/// (the C API, prepared statements, one transaction, an fsync at commit like the depot's)
/// takes to store the same rows and blobs, and what the same content weighs deflated.
final class RawBaseline {
    private let db: OpaquePointer
    private let insertRow: OpaquePointer
    private let insertBlob: OpaquePointer
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// A fresh file with one table for the rows (key, table, values) and one for blobs.
    init(path: String) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var h: OpaquePointer?
        guard sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let h else {
            throw ToolError("raw baseline: cannot open \(path)")
        }
        db = h
        for sql in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                    "CREATE TABLE rows(tbl TEXT NOT NULL, key TEXT NOT NULL, vals TEXT NOT NULL, site BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(tbl, key, site, seq)) WITHOUT ROWID",
                    "CREATE TABLE blobs(hash TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL)"] {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw ToolError("raw baseline: \(sql): \(String(cString: sqlite3_errmsg(db)))") }
        }
        var a: OpaquePointer?, b: OpaquePointer?
        sqlite3_prepare_v2(db, "INSERT INTO rows VALUES (?, ?, ?, ?, ?)", -1, &a, nil)
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO blobs VALUES (?, ?)", -1, &b, nil)
        guard let a, let b else { throw ToolError("raw baseline: prepare failed") }
        insertRow = a
        insertBlob = b
    }

    deinit {
        sqlite3_finalize(insertRow)
        sqlite3_finalize(insertBlob)
        sqlite3_close_v2(db)
    }

    /// Stores the changes as rows and the blobs in one transaction; returns the seconds taken.
    func store(_ changes: [Change], blobs: [(hash: String, bytes: [UInt8])]) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        sqlite3_exec(db, "BEGIN", nil, nil, nil)
        for c in changes {
            sqlite3_bind_text(insertRow, 1, c.table, -1, Self.transient)
            sqlite3_bind_text(insertRow, 2, c.key, -1, Self.transient)
            sqlite3_bind_text(insertRow, 3, Self.line(c), -1, Self.transient)
            let site = c.site.bytes
            sqlite3_bind_blob(insertRow, 4, site, Int32(site.count), Self.transient)
            sqlite3_bind_int64(insertRow, 5, Int64(c.seq))
            sqlite3_step(insertRow)
            sqlite3_reset(insertRow)
        }
        for b in blobs {
            sqlite3_bind_text(insertBlob, 1, b.hash, -1, Self.transient)
            sqlite3_bind_blob(insertBlob, 2, b.bytes, Int32(b.bytes.count), Self.transient)
            sqlite3_step(insertBlob)
            sqlite3_reset(insertBlob)
        }
        sqlite3_exec(db, "COMMIT", nil, nil, nil)
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// A change's values as one line of text: the content, without clocks or framing.
    static func line(_ c: Change) -> String {
        c.values.map { "\($0.value)" }.joined(separator: "\t")
    }

    /// Bytes per change of the changes' content alone (table, key, values as tab-separated
    /// text, one line each), deflated at level 6: what the same rows weigh with no protocol.
    static func contentBytesPerChange(_ changes: [Change]) -> Double {
        var text = ""
        for c in changes { text += c.table + "\t" + c.key + "\t" + line(c) + "\n" }
        return Double(Deflate.compress(Array(text.utf8), level: 6).count) / Double(max(1, changes.count))
    }

    /// The device's own changes and blobs, as a sync would send them.
    static func own(_ r: Replica) throws -> (changes: [Change], blobs: [(hash: String, bytes: [UInt8])]) {
        let changes = try r.ownChanges(after: 0, limit: .max)
        let blobs = try r.blobs(after: 0, limit: .max).compactMap { b in try r.blob(b.hash).map { (b.hash, $0) } }
        return (changes, blobs)
    }

    /// Copies one route's rows of a table from another file into a new one with raw SQL: what
    /// building a device's copy costs at the least. Returns seconds and rows.
    static func copyRoute(from source: String, table: String, route: String, to path: String) throws -> (Double, Int) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var h: OpaquePointer?
        guard sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db = h else { throw ToolError("cannot open \(path)") }
        defer { sqlite3_close_v2(db) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let sql = "ATTACH DATABASE '\(source)' AS src; CREATE TABLE copy AS SELECT * FROM src.\"\(table)\" WHERE route = '\(route)';"
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw ToolError("raw copy: \(String(cString: sqlite3_errmsg(db)))") }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var count: OpaquePointer?
        sqlite3_prepare_v2(db, "SELECT count(*) FROM copy", -1, &count, nil)
        defer { sqlite3_finalize(count) }
        return (seconds, sqlite3_step(count) == SQLITE_ROW ? Int(sqlite3_column_int64(count, 0)) : 0)
    }
}
