/// One page of changes for a peer that sees only part of the data (a van sees its route).
public struct ChangePage: Sendable {
    /// The changes the filter let through.
    public var changes: [Change]
    /// Where the next page starts: for each site, the last sequence number examined, whether
    /// it passed the filter or not.
    public var cursor: VersionVector
    /// True when changes remain after the cursor.
    public var more: Bool
}

extension Replica {
    /// The changes after `cursor` that `include` accepts, at most `limit` of them and at most
    /// `maxExamined` looked at. Only changes this replica holds without gap are served, so a
    /// cursor never skips a change that arrives later.
    public func changePage(after cursor: VersionVector, limit: Int, maxExamined: Int = 200_000,
                           include: (Change, RowReader) throws -> Bool) throws(ReplicaError) -> ChangePage {
        try withRead { db, e in
            var out: [Change] = []
            var next = cursor
            var examined = 0
            var more = false
            let reader = RowReader(engine: e)
            let s = try RawStatement(db, "SELECT id, hlc, tbl, key, cl, vals FROM tally_log WHERE id > ? AND id <= ? ORDER BY id")
            for (site, idx) in e.siteIndex.sorted(by: { $0.key < $1.key }) {
                let upTo = e.contiguous[idx] ?? 0
                let from = cursor[site]
                guard from < upTo else { continue }
                if out.count >= limit || examined >= maxExamined { more = true; break }
                s.reset()
                s.bind(1, StoreLayout.logID(site: idx, seq: from))
                s.bind(2, StoreLayout.logID(site: idx, seq: upTo))
                while try s.step() {
                    let seq = UInt64(s.int64(0)) & StoreLayout.maxSeq
                    let plan = e.plans[Int(s.int64(2))]
                    let cols = try ResolvedChange.decodeValues(s.bytes(5))
                    let change = Change(table: plan.schema.name, key: s.text(3), cl: s.int64(4),
                                        values: cols.map { ColumnValue(plan.schema.columns[$0.0].name, $0.1) },
                                        hlc: HLC(rawValue: UInt64(bitPattern: s.int64(1))), site: site, seq: seq)
                    examined += 1
                    if try include(change, reader) { out.append(change) }
                    next[site] = seq
                    if out.count >= limit || examined >= maxExamined {
                        more = seq < upTo
                        break
                    }
                }
                s.reset()
            }
            if !more {
                // Sites not reached because the page filled up exactly at a site boundary.
                more = e.siteIndex.contains { (site, idx) in next[site] < (e.contiguous[idx] ?? 0) }
            }
            return ChangePage(changes: out, cursor: next, more: more)
        }
    }

    /// The highest sequence number of `site` this replica holds without gap.
    public func contiguousSeq(of site: SiteID) throws(ReplicaError) -> UInt64 {
        try withRead { _, e in e.siteIndex[site].flatMap { e.contiguous[$0] } ?? 0 }
    }
}
