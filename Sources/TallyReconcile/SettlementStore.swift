import Foundation
import GRDB
import TallyReplica
import TallyRoutes

/// The depot's settlement book, `settlement.sqlite` in its data folder: imported bank lines,
/// approvals and their history, the tolerance. Kept apart from the replicated store on purpose:
/// bank lines and approvals are the accountants' and never travel to a van.
public final class SettlementStore: Sendable {
    let queue: DatabaseQueue
    let clock: any WallClock

    public init(path: String, clock: any WallClock) throws {
        self.clock = clock
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL") }
        // Bank lines and approvals: readable by the depot's user only.
        try PrivateFiles.prepareDatabase(path)
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS bank_lines(id TEXT PRIMARY KEY, date TEXT NOT NULL, account TEXT NOT NULL,
                    amount INTEGER NOT NULL, reference TEXT NOT NULL, imported_at TEXT NOT NULL, file TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS bank_lines_date ON bank_lines(date);
                CREATE TABLE IF NOT EXISTS approvals(device TEXT NOT NULL, day TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL,
                    note TEXT NOT NULL, variance INTEGER NOT NULL, entries TEXT NOT NULL, PRIMARY KEY(device, day));
                CREATE TABLE IF NOT EXISTS approval_log(seq INTEGER PRIMARY KEY, device TEXT NOT NULL, day TEXT NOT NULL,
                    action TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
            // Later: the day as approved (figures and exceptions), frozen; older approvals lack it.
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(approvals)").map { $0["name"] as String }
            if !columns.contains("snapshot") { try db.execute(sql: "ALTER TABLE approvals ADD COLUMN snapshot TEXT") }
        }
    }

    var now: String { IsoTime.format(clock.nowMilliseconds()) }

    // MARK: - Bank lines

    /// Stores a statement's lines; lines already held are skipped. Returns how many were new.
    public func importBank(_ lines: [BankLine], file: String) throws -> Int {
        let at = now
        return try queue.write { db in
            var added = 0
            for l in lines {
                try db.execute(sql: "INSERT OR IGNORE INTO bank_lines(id, date, account, amount, reference, imported_at, file) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [l.id, l.date, l.account, l.amount.minorUnits, l.reference, at, file])
                added += db.changesCount
            }
            return added
        }
    }

    public func bankLines() throws -> [BankLine] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, date, account, amount, reference FROM bank_lines ORDER BY date, id").map {
                BankLine(id: $0[0], date: $0[1], account: $0[2], amount: Money(minorUnits: $0[3]), reference: $0[4], line: nil)
            }
        }
    }

    // MARK: - Tolerance

    /// The largest variance an accountant may approve without a note.
    public func tolerance() throws -> Money {
        try queue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'tolerance'").flatMap { try? Money(parsing: $0) } ?? .zero
        }
    }

    public func setTolerance(_ m: Money) throws {
        try queue.write { db in try db.execute(sql: "INSERT OR REPLACE INTO settings(name, value) VALUES ('tolerance', ?)", arguments: [m.description]) }
    }

    // MARK: - Bank formats and the designated account

    /// Saves how a bank's statement export reads, under its name (replacing one of that name).
    public func saveBankFormat(_ f: BankFormat) throws {
        let json = String(decoding: try JSONEncoder().encode(f), as: UTF8.self)
        try queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings(name, value) VALUES (?, ?)", arguments: ["bank_format." + f.name, json])
        }
    }

    /// Every saved format, by name; the plain one first.
    public func bankFormats() throws -> [BankFormat] {
        let saved = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT value FROM settings WHERE name LIKE 'bank_format.%' ORDER BY name")
        }
        return [.plain] + (try saved.map { try JSONDecoder().decode(BankFormat.self, from: Data($0.utf8)) })
    }

    public func bankFormat(named name: String) throws -> BankFormat? {
        try bankFormats().first { $0.name == name }
    }

    /// The company's account deposits must be paid into (the rulebook's 指定帐号); nil until set.
    public func designatedAccount() throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'designated_account'") }
    }

    public func setDesignatedAccount(_ account: String) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings(name, value) VALUES ('designated_account', ?)", arguments: [account])
        }
    }

    // MARK: - Approvals

    public func approvals(day: String) throws -> [String: ApprovedDay] {
        try queue.read { db in
            var out: [String: ApprovedDay] = [:]
            let sql = "SELECT device, day, by, at, note, variance, entries, snapshot FROM approvals WHERE day = ?"
            for r in try Row.fetchAll(db, sql: sql, arguments: [day]) {
                let ids = try JSONDecoder().decode([String].self, from: Data((r[6] as String).utf8))
                let a = Approval(device: r[0], day: r[1], by: r[2], at: r[3], note: r[4], variance: Money(minorUnits: r[5]), entries: ids.count)
                let frozen = try (r[7] as String?).map { try JSONDecoder().decode(FrozenDay.self, from: Data($0.utf8)) }
                out[a.device] = ApprovedDay(approval: a, entries: Set(ids), frozen: frozen)
            }
            return out
        }
    }

    func approve(device: String, day: String, by: String, note: String, variance: Money, entries: [String],
                 frozen: FrozenDay) throws -> Approval {
        let at = now
        let json = String(decoding: try JSONEncoder().encode(entries.sorted()), as: UTF8.self)
        let snapshot = String(decoding: try JSONEncoder().encode(frozen), as: UTF8.self)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO approvals(device, day, by, at, note, variance, entries, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [device, day, by, at, note, variance.minorUnits, json, snapshot])
            try db.execute(sql: "INSERT INTO approval_log(device, day, action, by, at, note) VALUES (?, ?, 'approve', ?, ?, ?)",
                           arguments: [device, day, by, at, note])
        }
        return Approval(device: device, day: day, by: by, at: at, note: note, variance: variance, entries: entries.count)
    }

    func reopen(device: String, day: String, by: String, note: String) throws -> Bool {
        let at = now
        return try queue.write { db in
            try db.execute(sql: "DELETE FROM approvals WHERE device = ? AND day = ?", arguments: [device, day])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "INSERT INTO approval_log(device, day, action, by, at, note) VALUES (?, ?, 'reopen', ?, ?, ?)",
                           arguments: [device, day, by, at, note])
            return true
        }
    }

    /// Every approval and reopening, oldest first.
    public func history() throws -> [(device: String, day: String, action: String, by: String, at: String, note: String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT device, day, action, by, at, note FROM approval_log ORDER BY seq").map {
                (device: $0[0], day: $0[1], action: $0[2], by: $0[3], at: $0[4], note: $0[5])
            }
        }
    }
}
