extension Replica {
    /// The changes this replica holds that a replica with version vector `since` may lack, in
    /// site order then sequence order, at most `limit` of them.
    ///
    /// Apply the result and ask again with the receiver's new vector to page through a large
    /// delta: every page moves the receiver's vector on.
    public func changes(since: VersionVector, limit: Int = .max) throws(ReplicaError) -> [Change] {
        try changes(since: since, onlySite: nil, limit: limit)
    }

    func changes(since: VersionVector, onlySite: SiteID?, limit: Int) throws(ReplicaError) -> [Change] {
        try withRead { db, e in
            var out: [Change] = []
            let s = try RawStatement(db, "SELECT id, hlc, tbl, key, cl, vals FROM tally_log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?")
            let sites = e.siteIndex.sorted { $0.key < $1.key }
            for (site, idx) in sites where out.count < limit && (onlySite == nil || onlySite == site) {
                let from = since[site]
                guard try from < (e.contiguous[idx] ?? 0) || hasAbove(db, idx, from) else { continue }
                s.reset()
                s.bind(1, StoreLayout.logID(site: idx, seq: from))
                s.bind(2, StoreLayout.logID(site: idx, seq: StoreLayout.maxSeq))
                s.bind(3, Int64(limit - out.count))
                while try s.step() {
                    let id = UInt64(s.int64(0))
                    let plan = e.plans[Int(s.int64(2))]
                    let cols = try ResolvedChange.decodeValues(s.bytes(5))
                    out.append(Change(table: plan.schema.name, key: s.text(3), cl: s.int64(4),
                                      values: cols.map { ColumnValue(plan.schema.columns[$0.0].name, $0.1) },
                                      hlc: HLC(rawValue: UInt64(bitPattern: s.int64(1))), site: site,
                                      seq: id & StoreLayout.maxSeq))
                }
                s.reset()
            }
            return out
        }
    }

    /// Whether the log holds changes of a site above a sequence number (beyond a gap).
    private func hasAbove(_ db: GRDB.Database, _ idx: Int, _ seq: UInt64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM tally_log WHERE id > ? AND id <= ?)",
                          arguments: [StoreLayout.logID(site: idx, seq: seq), StoreLayout.logID(site: idx, seq: StoreLayout.maxSeq)]) ?? false
    }

    /// Number of changes in the log.
    public func changeCount() throws(ReplicaError) -> Int {
        try withRead { db, _ in try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_log") ?? 0 }
    }
}

import GRDB

extension Replica {
    /// This replica's own changes after sequence number `seq`, in order, at most `limit`: what
    /// a device pushes to the depot.
    public func ownChanges(after seq: UInt64, limit: Int) throws(ReplicaError) -> [Change] {
        try changes(since: VersionVector([site: seq]), onlySite: site, limit: limit)
    }

    /// Number of own changes after `seq`: what a device still has to push.
    public func ownChangeCount(after seq: UInt64) throws(ReplicaError) -> Int {
        try withRead { _, e in Int((e.contiguous[e.localIndex] ?? 0) - min(seq, e.contiguous[e.localIndex] ?? 0)) }
    }

    /// The highest sequence number this replica has written itself.
    public var localSeq: UInt64 { (try? withRead { _, e in e.localSeq }) ?? 0 }
}
