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
    ///
    /// `owners` narrows what is examined to the log rows recorded with one of those owners (see
    /// `ReplicaOptions.scopeColumns` and `sharedOwners`) and those with none (tables without a scope column, rows
    /// whose owner was unknown), through the log's owner index, instead of every change; on a
    /// replica without scope columns it is ignored. `include` still has the last word.
    /// `skipping` names a site whose changes are passed over unexamined (a peer's own: it
    /// holds them already); the cursor still moves past them.
    public func changePage(after cursor: VersionVector, limit: Int, maxExamined: Int = 200_000,
                           owners: [String]? = nil, skipping: SiteID? = nil,
                           include: (Change, RowReader) throws -> Bool) throws(ReplicaError) -> ChangePage {
        try withRead { db, e in
            var out: [Change] = []
            var next = cursor
            var examined = 0
            var more = false
            let reader = RowReader(engine: e)
            let columns = "SELECT id, hlc, tbl, key, cl, vals FROM tally_log"
            let indexed = !e.scopeColumns.isEmpty || e.plans.contains { $0.sharedOwner != nil }
            let ownerList: [String]? = indexed ? owners.map { Array(Set($0)).sorted() } : nil
            // Without owners: every log row in the site's range. With them: each owner's rows and
            // the rows without an owner, index ranges merged in id order. (The stream number in
            // the SQL keeps the cached statements apart.)
            let streams: [RawStatement]
            if let ownerList {
                streams = try ownerList.indices.map { k in
                    try e.query(db, "\(columns) WHERE sc = ?3 AND id > ?1 AND id <= ?2 ORDER BY id -- \(k)")
                } + [try e.query(db, "\(columns) WHERE sc IS NULL AND id > ?1 AND id <= ?2 ORDER BY id")]
            } else {
                streams = [try e.query(db, "\(columns) WHERE id > ?1 AND id <= ?2 ORDER BY id")]
            }
            defer { for s in streams { s.reset() } }
            for (site, idx) in e.siteIndex.sorted(by: { $0.key < $1.key }) {
                let upTo = e.contiguous[idx] ?? 0
                let from = cursor[site]
                guard from < upTo else { continue }
                if site == skipping {
                    next[site] = upTo
                    continue
                }
                if out.count >= limit || examined >= maxExamined { more = true; break }
                var live: [Bool] = []
                for (k, s) in streams.enumerated() {
                    s.reset()
                    s.bind(1, StoreLayout.logID(site: idx, seq: from))
                    s.bind(2, StoreLayout.logID(site: idx, seq: upTo))
                    if let ownerList, k < ownerList.count { s.bind(3, ownerList[k]) }
                    live.append(try s.step())
                }
                var stoppedEarly = false
                while true {
                    // The stream whose current row has the lowest id.
                    var pick = -1
                    for k in streams.indices where live[k] {
                        if pick < 0 || streams[k].int64(0) < streams[pick].int64(0) { pick = k }
                    }
                    guard pick >= 0 else { break }
                    let s = streams[pick]
                    let seq = UInt64(s.int64(0)) & StoreLayout.maxSeq
                    let plan = e.plans[Int(s.int64(2))]
                    let cols = try ResolvedChange.decodeValues(s.bytes(5))
                    let change = Change(table: plan.schema.name, key: s.text(3), cl: s.int64(4),
                                        values: cols.map { ColumnValue(plan.schema.columns[$0.0].name, $0.1) },
                                        hlc: HLC(rawValue: UInt64(bitPattern: s.int64(1))), site: site, seq: seq)
                    live[pick] = try s.step()
                    examined += 1
                    if try include(change, reader) { out.append(change) }
                    next[site] = seq
                    if out.count >= limit || examined >= maxExamined {
                        stoppedEarly = live.contains(true)
                        more = stoppedEarly
                        break
                    }
                }
                // Every change of the site up to `upTo` was examined (the index passes over the
                // ones of other owners): the cursor moves to the end of the range.
                if !stoppedEarly { next[site] = upTo }
                for s in streams { s.reset() }
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
