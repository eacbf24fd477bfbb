import GRDB

/// The SQL layout of a replica file. Declared tables are ordinary SQLite tables a person can
/// query with `sqlite3` (one row per record, the key first, then the declared columns, then two
/// engine columns); the engine's own tables start with `tally_`.
enum StoreLayout {
    static let format = 1

    static let engineTables = """
        CREATE TABLE tally_meta(name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
        CREATE TABLE tally_sites(idx INTEGER PRIMARY KEY, site BLOB NOT NULL UNIQUE, seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE tally_log(id INTEGER PRIMARY KEY, hlc INTEGER NOT NULL, tbl INTEGER NOT NULL,
                               key TEXT NOT NULL, cl INTEGER NOT NULL, vals BLOB NOT NULL, sc TEXT);
        CREATE TABLE tally_conflicts(tbl TEXT NOT NULL, key TEXT NOT NULL, col TEXT NOT NULL, vals TEXT NOT NULL,
                                     PRIMARY KEY(tbl, key, col)) WITHOUT ROWID;
        CREATE TABLE tally_violations(tbl TEXT NOT NULL, key TEXT NOT NULL, content BLOB NOT NULL, vals TEXT NOT NULL,
                                      site BLOB NOT NULL, hlc INTEGER NOT NULL,
                                      PRIMARY KEY(tbl, key, content)) WITHOUT ROWID;
        CREATE TABLE tally_blobs(hash BLOB PRIMARY KEY NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL);
        """

    /// The change log's scope index: `tally_log.sc` holds the owner of each change's row (the
    /// value of the table's scope column, see `ReplicaOptions.scopeColumns`), so that a peer
    /// that sees one owner's rows reads only those log rows. Made only on replicas that have
    /// scope columns (a depot); older files gain the `sc` column when opened.
    static let scopeIndex = "CREATE INDEX IF NOT EXISTS tally_log_scope ON tally_log(sc, id)"

    /// Bits of a log id that hold the site's sequence number; the site's local index sits above.
    static let seqBits: UInt64 = 40
    static let maxSeq: UInt64 = (1 << seqBits) - 1

    static func logID(site: Int, seq: UInt64) -> Int64 { Int64(site) << Int64(seqBits) | Int64(seq) }

    static func quote(_ name: String) -> String { "\"\(name)\"" }

    static func sqlType(_ t: ColumnType) -> String {
        switch t {
        case .text: "TEXT"
        case .integer: "INTEGER"
        case .blob: "BLOB"
        }
    }

    static func createTable(_ t: TableSchema) -> String {
        var cols = ["\(quote(t.key)) TEXT PRIMARY KEY NOT NULL"]
        cols += t.columns.map { "\(quote($0.name)) \(sqlType($0.type))" }
        cols += ["tally_cl INTEGER NOT NULL", "tally_clock BLOB NOT NULL"]
        return "CREATE TABLE \(quote(t.name))(\(cols.joined(separator: ", "))) WITHOUT ROWID"
    }

    /// Statements that take a stored table from `old` to `new` (appended columns only).
    static func addColumns(from old: TableSchema, to new: TableSchema) -> [String] {
        new.columns.dropFirst(old.columns.count).map {
            "ALTER TABLE \(quote(new.name)) ADD COLUMN \(quote($0.name)) \(sqlType($0.type))"
        }
    }
}
