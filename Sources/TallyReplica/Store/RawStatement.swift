import GRDB
import GRDBSQLite

/// A prepared statement driven through the SQLite C API: the engine's hot paths (log appends,
/// row loads and stores during a merge) bind and step these directly, skipping per-call
/// dictionary lookups and argument boxing. Prepared once per connection and kept for its life.
final class RawStatement {
    let handle: OpaquePointer
    let sql: String
    private let connection: OpaquePointer

    init(_ db: Database, _ sql: String) throws(ReplicaError) {
        guard let conn = db.sqliteConnection else { throw ReplicaError.storage("the database connection is closed") }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(conn, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw ReplicaError.storage("cannot prepare \(sql): \(String(cString: sqlite3_errmsg(conn)))")
        }
        handle = stmt
        connection = conn
        self.sql = sql
    }

    private var finalized = false

    deinit { finalize() }

    /// Releases the statement; the connection can close only once every statement is released.
    func finalize() {
        guard !finalized else { return }
        finalized = true
        sqlite3_finalize(handle)
    }

    @inline(__always) func reset() {
        sqlite3_reset(handle)
    }

    @inline(__always) func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }

    @inline(__always) func bind(_ i: Int32, _ s: String) {
        var s = s
        s.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    _ = sqlite3_bind_text(handle, i, base, Int32(chars.count), sqliteTransient)
                } else {
                    _ = sqlite3_bind_text(handle, i, "", 0, sqliteTransient)
                }
            }
        }
    }

    @inline(__always) func bind(_ i: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBytes { buf in
            _ = sqlite3_bind_blob(handle, i, buf.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buf.count), sqliteTransient)
        }
    }

    @inline(__always) func bind(_ i: Int32, _ v: Value) {
        switch v {
        case .null: sqlite3_bind_null(handle, i)
        case .integer(let x): sqlite3_bind_int64(handle, i, x)
        case .text(let s): bind(i, s)
        case .blob(let b): bind(i, bytes: b)
        }
    }

    /// Steps once; true when a row is available.
    @inline(__always) func step() throws(ReplicaError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw ReplicaError.storage(String(cString: sqlite3_errmsg(connection)))
    }

    /// Runs a statement that returns no rows.
    @inline(__always) func run() throws(ReplicaError) {
        _ = try step()
        sqlite3_reset(handle)
    }

    /// Rows changed by the last run on this connection.
    var changes: Int32 { sqlite3_changes(connection) }

    @inline(__always) func int64(_ col: Int32) -> Int64 { sqlite3_column_int64(handle, col) }

    @inline(__always) func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(handle, col) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    @inline(__always) func bytes(_ col: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(handle, col))
        guard n > 0, let p = sqlite3_column_blob(handle, col) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    @inline(__always) func isNull(_ col: Int32) -> Bool { sqlite3_column_type(handle, col) == SQLITE_NULL }

    @inline(__always) func value(_ col: Int32) -> Value {
        switch sqlite3_column_type(handle, col) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, col))
        case SQLITE_TEXT: .text(text(col))
        case SQLITE_BLOB: .blob(bytes(col))
        default: .integer(sqlite3_column_int64(handle, col))  // a REAL written by hand: truncated, never used by the engine
        }
    }
}

/// SQLite's "copy this buffer now" destructor, which the C header defines as a macro Swift
/// cannot import.
let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
