import Crypto
import GRDB

extension Replica {
    /// SHA-256 (hex) over the live rows, conflict records and integrity violations in canonical
    /// order: equal on any two replicas that hold the same changes, whatever order they merged
    /// them in. The byte layout is specified in `Protocol/DIGEST.md`.
    public func digest() throws(ReplicaError) -> String {
        try withRead { db, e in
            var hasher = SHA256()
            var b = CanonicalBytes()
            func flush() {
                hasher.update(data: b.bytes)
                b.bytes.removeAll(keepingCapacity: true)
            }
            for plan in e.plans.sorted(by: { Array($0.schema.name.utf8).lexicographicallyPrecedes($1.schema.name.utf8) }) {
                let t = plan.schema
                b.tag("T"); b.string(t.name); b.u32(t.columns.count)
                let q = StoreLayout.quote
                let cols = ([q(t.key)] + t.columns.map { q($0.name) }).joined(separator: ", ")
                let s = try RawStatement(db, "SELECT \(cols) FROM \(q(t.name)) WHERE tally_cl % 2 = 1 ORDER BY \(q(t.key))")
                while try s.step() {
                    b.tag("R"); b.string(s.text(0))
                    for i in 0..<t.columns.count { b.value(s.value(Int32(i + 1))) }
                    if b.bytes.count > 1 << 16 { flush() }
                }
            }
            let c = try RawStatement(db, "SELECT tbl, key, col, vals FROM tally_conflicts ORDER BY tbl, key, col")
            while try c.step() {
                let vals = ConflictCoding.decode(c.text(3))
                b.tag("C"); b.string(c.text(0)); b.string(c.text(1)); b.string(c.text(2)); b.u32(vals.count)
                for v in vals { b.string(v) }
                if b.bytes.count > 1 << 16 { flush() }
            }
            let v = try RawStatement(db, "SELECT tbl, key, content FROM tally_violations ORDER BY tbl, key, content")
            while try v.step() {
                b.tag("V"); b.string(v.text(0)); b.string(v.text(1)); b.raw(v.bytes(2))
                if b.bytes.count > 1 << 16 { flush() }
            }
            flush()
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }
}

import Foundation
