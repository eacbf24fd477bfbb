// The merge semantics, computed straight from the union of all changes, without the engine:
// the oracle the property tests and golden vectors compare the engine against.
//
// - record tables: causal length = max over the row's changes; live iff odd.
// - register column: the value of the change with the greatest (hlc, site) among the changes that
//   set the column; never set → null.
// - lattice column: the maximal elements (in the declared order) of every value ever written;
//   one → that value; several → a conflict listing them in declaration order, and the row shows
//   the first.
// - ledger tables: the row is the content of the change with the smallest (hlc, site); every
//   other distinct content for the key is an integrity violation, attributed to the earliest
//   (hlc, site) change that wrote that content.

import Foundation
@testable import TallyReplica

struct ExpectedViolation: Hashable, CustomStringConvertible {
    var table: String
    var key: String
    var contentHash: String
    var values: [ColumnValue]
    /// The earliest (hlc, site) change that wrote this content: the same on every replica.
    var site: SiteID
    var hlc: HLC

    var description: String {
        "\(table)/\(key) #\(contentHash.prefix(8)) {" + values.map { "\($0.column)=\(show($0.value))" }.joined(separator: ", ") + "}"
            + " by \(site.hex.prefix(8))@\(hlc.hex)"
    }
}

struct ExpectedState {
    /// Every row the changes touch, deleted ones included, in key order.
    var rows: [String: [Row]]
    var conflicts: [ConflictRecord]
    /// In (table, key, content hash) order.
    var violations: [ExpectedViolation]
    var versionVector: VersionVector
    var digest: String

    func liveRows(_ table: String) -> [Row] { (rows[table] ?? []).filter(\.isLive) }
}

struct MergeOracle {
    let schema: Schema
    let changes: [Change]

    init(schema: Schema, changes: some Sequence<Change>) {
        self.schema = schema
        self.changes = Array(Set(changes))
    }

    func state() -> ExpectedState {
        var byRow: [String: [String: [Change]]] = [:]
        var vv: [SiteID: UInt64] = [:]
        for c in changes {
            byRow[c.table, default: [:]][c.key, default: []].append(c)
            vv[c.site] = max(vv[c.site] ?? 0, c.seq)
        }
        var rows: [String: [Row]] = [:]
        var conflicts: [ConflictRecord] = []
        var violations: [ExpectedViolation] = []
        var violationHashes: [(table: String, key: String, hash: [UInt8])] = []
        for t in schema.tables {
            var out: [Row] = []
            let keyed = byRow[t.name] ?? [:]
            for key in keyed.keys.sorted(by: utf8Less) {
                let cs = keyed[key]!  // safe: key comes from the dictionary
                switch t.kind {
                case .ledger:
                    let content = { (c: Change) in t.columns.map { c.value($0.name) ?? .null } }
                    let first = cs.min(by: stampLess)!  // safe: a row has at least one change
                    let kept = content(first)
                    out.append(Row(table: t.name, key: key, values: zip(t.columns, kept).map { ColumnValue($0.name, $1) },
                                   isLive: true, causalLength: 1))
                    var seen: Set<[Value]> = [kept]
                    for c in cs.sorted(by: stampLess) {
                        let v = content(c)
                        guard seen.insert(v).inserted else { continue }
                        let h = Canonical.contentHash(v)
                        violationHashes.append((t.name, key, h))
                        violations.append(ExpectedViolation(table: t.name, key: key, contentHash: hexString(h),
                                                            values: zip(t.columns, v).map { ColumnValue($0.name, $1) },
                                                            site: c.site, hlc: c.hlc))
                    }
                case .record:
                    let cl = cs.map(\.cl).max()!  // safe: non-empty
                    var values: [ColumnValue] = []
                    for col in t.columns {
                        let setters = cs.filter { $0.value(col.name) != nil }
                        switch col.merge {
                        case .register:
                            let winner = setters.max(by: stampLess)
                            values.append(ColumnValue(col.name, winner?.value(col.name) ?? .null))
                        case .lattice(let order):
                            let top = OrderOracle(order).maximal(setters.compactMap { $0.value(col.name)?.text })
                            values.append(ColumnValue(col.name, top.first.map(Value.text) ?? .null))
                            if top.count > 1 {
                                conflicts.append(ConflictRecord(table: t.name, key: key, column: col.name, values: top))
                            }
                        }
                    }
                    out.append(Row(table: t.name, key: key, values: values, isLive: cl % 2 == 1, causalLength: cl))
                }
            }
            rows[t.name] = out
        }
        conflicts.sort(by: conflictLess)
        violations.sort {
            if $0.table != $1.table { return utf8Less($0.table, $1.table) }
            if $0.key != $1.key { return utf8Less($0.key, $1.key) }
            return $0.contentHash < $1.contentHash
        }
        let live = rows.mapValues { $0.filter(\.isLive).map { (key: $0.key, values: $0.values.map(\.value)) } }
        let digest = Canonical.digest(schema: schema, liveRows: live, conflicts: conflicts, violations: violationHashes)
        return ExpectedState(rows: rows, conflicts: conflicts, violations: violations,
                             versionVector: VersionVector(vv), digest: digest)
    }
}

/// A partial order worked out from its covering pairs alone (not through `PartialOrder`'s own
/// closure): `a < b` iff a chain of covers leads from a to b.
struct OrderOracle {
    let values: [String]
    let covers: [[String]]

    init(_ order: PartialOrder) {
        values = order.values
        covers = order.covers
    }

    func less(_ a: String, _ b: String) -> Bool {
        var stack = [a]
        var seen: Set<String> = []
        while let x = stack.popLast() {
            for c in covers where c[0] == x {
                if c[1] == b { return true }
                if seen.insert(c[1]).inserted { stack.append(c[1]) }
            }
        }
        return false
    }

    /// The maximal elements of a set, in declaration order.
    func maximal(_ set: [String]) -> [String] {
        let distinct = Set(set)
        return values.filter { v in distinct.contains(v) && !distinct.contains { less(v, $0) } }
    }
}

/// A value as a short, unambiguous string for failure messages.
func show(_ v: Value) -> String {
    switch v {
    case .null: "null"
    case .integer(let i): "\(i)"
    case .text(let s): "\"\(s)\""
    case .blob(let b): "blob[\(hexString(b))]"
    }
}

func show(_ r: Row) -> String {
    "\(r.key)\(r.isLive ? "" : " (deleted)") cl=\(r.causalLength) {" + r.values.map { "\($0.column)=\(show($0.value))" }.joined(separator: ", ") + "}"
}

func show(_ c: ConflictRecord) -> String { "\(c.table)/\(c.key).\(c.column) \(c.values)" }

/// The first difference between two row lists, or nil when equal.
func rowDifference(_ got: [Row], _ want: [Row]) -> String? {
    if got == want { return nil }
    let g = Dictionary(got.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    let w = Dictionary(want.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    for key in Set(g.keys).union(w.keys).sorted(by: utf8Less) where g[key] != w[key] {
        return "row \(key): engine \(g[key].map(show) ?? "absent"), expected \(w[key].map(show) ?? "absent")"
    }
    return "same rows in another order: engine \(got.map(\.key)), expected \(want.map(\.key))"
}

func engineViolations(_ r: Replica) throws -> [ExpectedViolation] {
    try r.violations().map {
        ExpectedViolation(table: $0.table, key: $0.key, contentHash: $0.contentHash, values: $0.values, site: $0.site, hlc: $0.hlc)
    }
}
