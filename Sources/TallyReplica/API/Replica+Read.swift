import Foundation
import GRDB

extension Replica {
    /// One row by key, live or deleted; nil if the replica never saw it.
    public func row(_ table: String, key: String) throws(ReplicaError) -> Row? {
        try withRead { _, e in
            guard let plan = e.planByName[table] else { throw ReplicaError.schemaMismatch("there is no table '\(table)' in this replica") }
            return Row(plan: plan, key: key, state: try plan.load(key))
        }
    }

    /// Every row of a table in key order; deleted rows only when asked.
    public func rows(_ table: String, includeDeleted: Bool = false) throws(ReplicaError) -> [Row] {
        try withRead { db, e in
            guard let plan = e.planByName[table] else { throw ReplicaError.schemaMismatch("there is no table '\(table)' in this replica") }
            let t = plan.schema
            let q = StoreLayout.quote
            let cols = ([q(t.key)] + t.columns.map { q($0.name) } + ["tally_cl"]).joined(separator: ", ")
            let filter = includeDeleted ? "" : " WHERE tally_cl % 2 = 1"
            let s = try RawStatement(db, "SELECT \(cols) FROM \(q(t.name))\(filter) ORDER BY \(q(t.key))")
            var out: [Row] = []
            while try s.step() {
                let n = t.columns.count
                let cl = s.int64(Int32(n + 1))
                out.append(Row(table: t.name, key: s.text(0),
                               values: (0..<n).map { ColumnValue(t.columns[$0].name, s.value(Int32($0 + 1))) },
                               isLive: cl % 2 == 1, causalLength: cl))
            }
            return out
        }
    }

    /// Every open lattice conflict, in table, key, column order.
    public func conflicts() throws(ReplicaError) -> [ConflictRecord] {
        try withRead { db, _ in
            try Row_.fetchAll(db, sql: "SELECT tbl, key, col, vals FROM tally_conflicts ORDER BY tbl, key, col").map {
                ConflictRecord(table: $0[0], key: $0[1], column: $0[2], values: ConflictCoding.decode($0[3]))
            }
        }
    }

    /// Every recorded ledger integrity violation.
    public func violations() throws(ReplicaError) -> [IntegrityViolation] {
        try withRead { db, e in
            try Row_.fetchAll(db, sql: "SELECT tbl, key, content, vals, site, hlc FROM tally_violations ORDER BY tbl, key, content").map { r in
                let content: Data = r[2]
                let json: String = r[3]
                let dict = (try? JSONDecoder().decode([String: Value].self, from: Data(json.utf8))) ?? [:]
                let site: Data = r[4]
                let hlc: Int64 = r[5]
                let order = e.planByName[r[0] as String]?.schema.columns.map(\.name) ?? dict.keys.sorted()
                return IntegrityViolation(table: r[0], key: r[1], contentHash: content.map { String(format: "%02x", $0) }.joined(),
                                          values: order.compactMap { n in dict[n].map { ColumnValue(n, $0) } },
                                          site: SiteID(bytes: Array(site)) ?? SiteID(high: 0, low: 0), hlc: HLC(rawValue: UInt64(bitPattern: hlc)))
            }
        }
    }
}

/// GRDB's row type, renamed here because the engine has a `Row` of its own.
typealias Row_ = GRDB.Row
